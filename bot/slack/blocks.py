"""Block Kit pieces every builder shares: Slack's limits, clipping, dates, small blocks.

Builders are pure functions from read models to blocks: no I/O, no sessions, no ORM
objects. Messages stay within 50 blocks and modals or the Home tab within 100;
section text stays under 3000 characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.text.mrkdwn import esc
from bot.time.words import short_date

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SELECT_OPTIONS = 100


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def fmt_date(day: dt.date | None) -> str:
    if day is None:
        return "no date"
    return short_date(day)


def fmt_time(at: dt.time | None) -> str:
    return at.strftime("%H:%M") if at else ""


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))


def section(text: str, *, accessory: ButtonElement | None = None) -> SectionBlock:
    """A mrkdwn section, clipped to Slack's 3000 characters (text is not escaped)."""
    return SectionBlock(text=_md(text), accessory=accessory)


def context(text: str) -> ContextBlock:
    """A small grey line of mrkdwn (text is not escaped)."""
    return ContextBlock(elements=[_md(text)])


def header(text: str) -> HeaderBlock:
    """A plain-text header, clipped to Slack's 150 characters."""
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_TEXT)))


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(text, 75)),
        action_id=action_id,
        value=clip(value, 2000),
        style=style,
    )


def chunk_lines(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join lines into texts of at most ``limit`` characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def fit(blocks: list[Block], limit: int, note: str) -> list[Block]:
    """Cut ``blocks`` to ``limit``, ending with a context block saying so."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(note)]


def build_message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that just says something (used for errors after a submit)."""
    view = View(
        type="modal",
        title=clip(title, 24),
        close="Close",
        blocks=[section(esc(text) if "`" not in text else text)],
    )
    result: dict[str, Any] = view.to_dict()
    return result
