"""Blocks written for the wire without slack_sdk's validation are exactly its ``to_dict()``."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.blocks import button, context, header, section
from bot.slack.help import build_help_blocks
from bot.slack.meetings import build_meetings_blocks
from bot.slack.plan_views import build_due_blocks, build_plan_blocks
from bot.slack.progress import build_pick_blocks, build_progress_confirmation_blocks
from bot.slack.wire import to_wire
from tests.bot.slack.test_views import BIG, TODAY, due, meeting, summary

HOSTILE = "Safer streets <!channel> & <https://x.example/|the council page> > 1"


def _cases() -> list[list[Block]]:
    return [
        build_help_blocks(is_admin=True, topic=None),
        build_help_blocks(is_admin=False, topic="progress"),
        build_plan_blocks(BIG, page=1, plan_year=2026),
        build_due_blocks([due(i, i % 3 == 0) for i in range(80)], days=30, today=TODAY),
        build_meetings_blocks([meeting(i) for i in range(12)], is_admin=True),
        build_progress_confirmation_blocks(summary(7), note=HOSTILE, done=False, rag="amber"),
        build_progress_confirmation_blocks(summary(8), note="", done=True, rag=None),
        build_pick_blocks(
            "dhr", [(s.id, s.title) for s in BIG[:5]], action="progress", r="red", n=HOSTILE
        ),
        [
            section(HOSTILE),
            section("x" * 5000, accessory=button("Log progress " * 10, "a", "v" * 3000)),
            context(HOSTILE),
            header(HOSTILE * 10),
            DividerBlock(),
        ],
    ]


@pytest.mark.parametrize("blocks", _cases())
def test_the_same_as_slack_sdk(blocks: list[Block]) -> None:
    assert to_wire(blocks) == [b.to_dict() for b in blocks]


def test_other_shapes_go_through_slack_sdk() -> None:
    others: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="verbatim", verbatim=True)),
        SectionBlock(text=PlainTextObject(text="plain", emoji=True)),
        SectionBlock(fields=[MarkdownTextObject(text="a"), MarkdownTextObject(text="b")]),
        SectionBlock(block_id="kept", text=MarkdownTextObject(text="with an id")),
        SectionBlock(
            text=MarkdownTextObject(text="link"),
            accessory=ButtonElement(text="Open", action_id="o", url="https://x.example/"),
        ),
        ContextBlock(elements=[PlainTextObject(text="plain")]),
        ActionsBlock(elements=[ButtonElement(text="Go", action_id="go", value="1")]),
    ]
    assert to_wire([*others, {"type": "divider"}]) == [
        *(b.to_dict() for b in others),
        {"type": "divider"},
    ]


def test_what_slack_would_refuse_is_still_refused() -> None:
    too_long = SectionBlock(text=MarkdownTextObject(text="x" * 3001))
    with pytest.raises(SlackObjectFormationError):
        to_wire([too_long])
    bad_style = SectionBlock(
        text=MarkdownTextObject(text="ok"),
        accessory=ButtonElement(text="Go", action_id="go", value="1", style="loud"),
    )
    with pytest.raises(SlackObjectFormationError):
        to_wire([bad_style])
