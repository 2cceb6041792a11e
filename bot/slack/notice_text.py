"""Notice wording the reminder, meeting and failure builders share: days, clipping, lateness."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.time.words import short_date

SECTION_LIMIT = 3000


def long_day(d: dt.date) -> str:
    """ "Thu 26 Nov 2026"."""
    return short_date(d)


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relative_due(due: dt.date, today: dt.date) -> str:
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    if days == -1:
        return "yesterday"
    return f"{-days} days ago"


def late_line(late: bool, planned_for: dt.date | None) -> list[Block]:
    """The "sent late" context line for a notice sent after its time (none if on time)."""
    if not late:
        return []
    when = f" (it was due to go out on {long_day(planned_for)})" if planned_for else ""
    return [
        ContextBlock(
            elements=[MarkdownTextObject(text=f":hourglass: Sent late{when}; the bot was offline.")]
        )
    ]
