"""Meeting notice Block Kit: the week-before and on-the-day notices, and the set-a-date prompt.

Each builder takes a frozen read model and returns blocks; no I/O, no ORM objects. Data
written into mrkdwn or message text goes through :func:`bot.text.mrkdwn.esc`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Ids
from bot.slack.notice_text import clip, late_line, long_day, relative_due
from bot.text.mrkdwn import esc, esc_code
from bot.time.words import month_year


@dataclass(frozen=True)
class MeetingNoticeView:
    stage: str  # "meeting_d7", "meeting_day"
    meeting_id: int
    body: str
    meeting_date: dt.date
    today: dt.date
    start_time: dt.time | None = None
    place: str | None = None
    papers_due: dt.date | None = None
    objective_id: int | None = None
    objective_title: str | None = None
    late: bool = False


@dataclass(frozen=True)
class SetDatePromptView:
    meeting_id: int
    body: str
    month: dt.date
    today: dt.date
    late: bool = False


def meeting_text(view: MeetingNoticeView) -> str:
    when = relative_due(view.meeting_date, view.today)
    return f"{esc(view.body)} meeting {when}: {long_day(view.meeting_date)}."


def build_meeting_notice_blocks(view: MeetingNoticeView) -> list[Block]:
    at = f" at {view.start_time.strftime('%H:%M')}" if view.start_time else ""
    where = f", {esc(view.place)}" if view.place else ""
    icon = ":round_pushpin:" if view.stage == "meeting_day" else ":spiral_calendar_pad:"
    lines = [
        f"{icon} *{esc(view.body)} meeting {relative_due(view.meeting_date, view.today)}*",
        f"{long_day(view.meeting_date)}{at}{where}",
    ]
    if view.papers_due is not None and view.papers_due >= view.today:
        lines.append(
            f"Papers due {long_day(view.papers_due)} ({relative_due(view.papers_due, view.today)})."
        )
    if view.objective_title:
        lines.append(f"Part of: {esc(view.objective_title)}")
    blocks: list[Block] = [
        SectionBlock(block_id="meeting_head", text=MarkdownTextObject(text=clip("\n".join(lines))))
    ]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Date, time or place wrong? An admin can change it with "
                    f"`{esc('/csp meeting <body> <date> [time]')}`."
                )
            ]
        )
    )
    blocks.extend(late_line(view.late, None))
    if view.objective_id is not None:
        blocks.append(
            ActionsBlock(
                block_id=f"meeting_actions_{view.meeting_id}",
                elements=[
                    ButtonElement(
                        text="Log progress",
                        action_id=Ids.PROGRESS_OPEN,
                        value=str(view.objective_id),
                    )
                ],
            )
        )
    return blocks


def set_date_text(view: SetDatePromptView) -> str:
    return f"Please set the date of the {esc(view.body)} meeting in {month_year(view.month)}."


def build_set_date_blocks(view: SetDatePromptView) -> list[Block]:
    month = month_year(view.month)
    example = view.month.replace(day=min(10, view.month.day + 9)).isoformat()
    text = (
        f":spiral_calendar_pad: *The {esc(view.body)} meeting in {month} has no date yet.*\n"
        f"Set it so members get their reminders: "
        f"`/csp meeting {esc_code(view.body)} {example} 10:00`"
        " (the time is optional)."
    )
    blocks: list[Block] = [
        SectionBlock(block_id="set_date_head", text=MarkdownTextObject(text=clip(text)))
    ]
    blocks.extend(late_line(view.late, None))
    return blocks
