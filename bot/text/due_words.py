"""`/csp due` periods as people say them: "this week", "next month", "2 weeks", "in 10 days".

Pure. :func:`parse_due_words` reads the words after ``due`` (or ``what is due``) into
a number of days or a named period; :func:`due_horizon` turns that into the number of
days from today and the words the reply uses ("this week (to Sun 6 Dec)").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from dateutil.relativedelta import relativedelta

from bot.errors import UsageError
from bot.text.help import USAGE

MAX_DUE_DAYS = 366
DEFAULT_DUE_DAYS = 30

Period = Literal["today", "tomorrow", "this week", "next week", "this month", "next month"]
_PERIODS: dict[str, Period] = {
    "today": "today",
    "tomorrow": "tomorrow",
    "this week": "this week",
    "week": "this week",
    "the week": "this week",
    "next week": "next week",
    "this month": "this month",
    "month": "this month",
    "the month": "this month",
    "next month": "next month",
}
_UNITS = {
    "d": ("days", 1),
    "day": ("days", 1),
    "days": ("days", 1),
    "w": ("weeks", 7),
    "wk": ("weeks", 7),
    "wks": ("weeks", 7),
    "week": ("weeks", 7),
    "weeks": ("weeks", 7),
    "fortnight": ("weeks", 14),
    "fortnights": ("weeks", 14),
    "m": ("months", 1),
    "month": ("months", 1),
    "months": ("months", 1),
}
_LIMITS = {"days": MAX_DUE_DAYS, "weeks": 52, "months": 12}
_AMOUNT = re.compile(r"^(\d+|an?|one)\s*([a-z]+)?$")
_FILLER = re.compile(r"^(?:(?:in|within|for|over|during|the|next|coming|by|until|is|are)\s+)+")
USAGE_HINT = (
    "Say how far ahead to look: a number of days (`/csp due 14`), weeks or months "
    "(`/csp due 2 weeks`, `/csp due 3 months`), or a period (`/csp due today`, "
    "`/csp due this week`, `/csp due next week`, `/csp due next month`)."
)


@dataclass(frozen=True)
class DueWords:
    """Either ``days`` from today, ``months`` from today, or a named ``period``."""

    days: int = DEFAULT_DUE_DAYS
    months: int = 0
    period: Period | None = None


def _usage(message: str) -> UsageError:
    return UsageError(message, USAGE["due"])


def parse_due_words(rest: str) -> DueWords:
    """The words after ``/csp due``; a UsageError with the right usage when unreadable."""
    text = " ".join(rest.lower().replace("?", " ").split()).strip(" .!")
    if not text:
        return DueWords()
    if text in _PERIODS:
        return DueWords(period=_PERIODS[text])
    bare = _FILLER.sub("", text)
    if bare in _PERIODS and not text.startswith("next"):
        return DueWords(period=_PERIODS[bare])
    if text.startswith("next ") and f"next {bare}" in _PERIODS:
        return DueWords(period=_PERIODS[f"next {bare}"])
    found = _AMOUNT.match(bare)
    if found is None:
        raise _usage(f"I can't read `{rest.strip()[:40]}` as a time ahead. {USAGE_HINT}")
    amount_text, unit_word = found.group(1), found.group(2) or "days"
    amount = int(amount_text) if amount_text.isdigit() else 1
    if unit_word not in _UNITS:
        raise _usage(f"I can't read `{rest.strip()[:40]}` as a time ahead. {USAGE_HINT}")
    unit, size = _UNITS[unit_word]
    limit = _LIMITS[unit]
    if not 1 <= amount <= limit:
        raise _usage(
            f"Give from 1 to {limit} {unit}, like `/csp due 14`, `/csp due 2 weeks` or "
            "`/csp due next month`."
        )
    if unit == "months":
        return DueWords(months=amount)
    return DueWords(days=min(amount * size, MAX_DUE_DAYS))


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def due_horizon(words: DueWords, today: dt.date) -> tuple[int, str]:
    """(days from today, how the reply names the span): "in the next 14 days",
    "this week (to Sun 6 Dec)"."""
    if words.period is None and not words.months:
        days = words.days
        return days, "in the next day" if days == 1 else f"in the next {days} days"
    if words.months:
        end = today + relativedelta(months=words.months)
        return min((end - today).days, MAX_DUE_DAYS), (
            f"in the next {'month' if words.months == 1 else f'{words.months} months'} "
            f"(to {_day(end)})"
        )
    period = words.period
    if period == "today":
        return 0, "today"
    if period == "tomorrow":
        return 1, f"by tomorrow ({_day(today + dt.timedelta(days=1))})"
    if period == "this week":
        end = today + dt.timedelta(days=6 - today.weekday())
        return (end - today).days, f"this week (to {_day(end)})"
    if period == "next week":
        end = today + dt.timedelta(days=13 - today.weekday())
        return (end - today).days, f"by the end of next week ({_day(end)})"
    if period == "this month":
        end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        return (end - today).days, f"this month (to {_day(end)})"
    first = today.replace(day=1) + relativedelta(months=1)
    end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return (end - today).days, f"by the end of next month ({_day(end)})"
