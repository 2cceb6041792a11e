"""Meeting months: the month slots of a "... meetings ..." text, in the bodies' order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.time.timescale.model import MeetingSlot
from bot.time.timescale.state import Item


def meeting_slots(item: Item, bodies: Sequence[str]) -> list[MeetingSlot]:
    """The item's month as a meeting of its own body, else of each body named before."""
    targets = [item.body] if item.body else (bodies or [""])
    return [MeetingSlot(body=b, month=dt.date(item.year, item.month, 1)) for b in targets]


def in_body_order(meetings: list[MeetingSlot], bodies: Sequence[str]) -> None:
    """Body-major order: all of one body's meetings, then the next body's."""
    meetings.sort(key=lambda s: bodies.index(s.body) if s.body in bodies else len(bodies))
