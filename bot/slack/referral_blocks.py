"""Small Block Kit pieces every referral builder shares: local times, state, choices, sections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Option, PlainTextObject

from bot.referrals.models import ReferralSummary
from bot.referrals.vocabulary import Status

SECTION_MAX: Final = 3000


def local_when(at: dt.datetime, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def choice_options(labels: Mapping[Any, str], values: Sequence[str]) -> list[Option]:
    return [Option(value=str(v), text=PlainTextObject(text=labels[v])) for v in values]


def state_line(s: ReferralSummary) -> str:
    if s.status == Status.CLOSED and s.closed_at:
        return f"Closed {local_when(s.closed_at, s.zone)}"
    parts: list[str] = []
    if s.acknowledged_at and s.acknowledged_by:
        parts.append(
            f"Acknowledged by <@{s.acknowledged_by}> {local_when(s.acknowledged_at, s.zone)}"
        )
    if s.assigned_to:
        parts.append(f"Assigned to <@{s.assigned_to}>")
    if s.status == Status.REFERRED_ON:
        parts.append("Referred on")
    return " · ".join(parts) if parts else ":hourglass: Awaiting acknowledgement"


def _slack_length(ch: str) -> int:
    """How many characters Slack counts for ``ch`` (UTF-16 code units: emoji count two)."""
    return 2 if ord(ch) > 0xFFFF else 1


def section_chunks(text: str, size: int = SECTION_MAX) -> list[str]:
    """``text`` in pieces Slack accepts in one section (at most ``size`` as Slack counts)."""
    out: list[str] = []
    start = used = 0
    for i, ch in enumerate(text):
        width = _slack_length(ch)
        if used + width > size:
            out.append(text[start:i])
            start, used = i, 0
        used += width
    out.append(text[start:])
    return out
