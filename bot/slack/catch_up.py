"""Catch-up Block Kit: the one message listing what was already overdue when chasing began.

Pure: a frozen read model in, blocks out. Data written into mrkdwn goes through
:func:`bot.text.mrkdwn.esc`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Ids
from bot.slack.notice_text import clip, long_day, relative_due
from bot.text.mrkdwn import esc

# One section per item, under Slack's 50 blocks a message with room for the rest.
MAX_ITEMS = 40


@dataclass(frozen=True)
class CatchUpItem:
    objective_id: int
    title: str
    due_on: dt.date


@dataclass(frozen=True)
class CatchUpView:
    items: tuple[CatchUpItem, ...]
    today: dt.date
    overdue_every_days: int


def catch_up_text(view: CatchUpView) -> str:
    """One line for notifications and clients that cannot show blocks."""
    count = len(view.items)
    noun = "item was" if count == 1 else "items were"
    return f"{count} plan {noun} already overdue when I started here: log progress on each."


def build_catch_up_blocks(view: CatchUpView) -> list[Block]:
    count = len(view.items)
    noun = "item was" if count == 1 else "items were"
    blocks: list[Block] = [
        SectionBlock(
            block_id="catch_up_head",
            text=MarkdownTextObject(
                text=(
                    f":clipboard: *{count} plan {noun} already overdue when I started "
                    "chasing here.* Rather than a message for each, here they all are: "
                    "press *Log progress* to say where each one stands, or mark it done "
                    f"with `{esc('/csp progress <objective> done')}`."
                )
            ),
        )
    ]
    for item in view.items[:MAX_ITEMS]:
        blocks.append(
            SectionBlock(
                block_id=f"catch_up_{item.objective_id}_{item.due_on.isoformat()}",
                text=MarkdownTextObject(
                    text=clip(
                        f"*{esc(item.title)}*: due {long_day(item.due_on)} "
                        f"({relative_due(item.due_on, view.today)})"
                    )
                ),
                accessory=ButtonElement(
                    text="Log progress",
                    action_id=Ids.PROGRESS_OPEN,
                    value=str(item.objective_id),
                ),
            )
        )
    rest = count - MAX_ITEMS
    footer = (
        f"Each one still open gets its own reminder from its next weekly notice (every "
        f"{view.overdue_every_days} days). `/csp due` lists everything due and overdue."
    )
    if rest > 0:
        footer = f"And {rest} more: `/csp due` lists them. " + footer
    blocks.append(
        ContextBlock(block_id="catch_up_next", elements=[MarkdownTextObject(text=footer)])
    )
    return blocks
