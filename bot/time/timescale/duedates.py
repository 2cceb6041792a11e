"""When a month-only date is due (the deadline-day policy) and how read dates are labelled."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from typing import Literal

from bot.time.timescale.lexicon import MONTH_NAMES
from bot.time.workdays import WorkingCalendar

DeadlineDay = Literal["last_working_day", "last_day", "first_day"]


def date_label(day: int | None, month: int, year: int, *, end_of: bool = False) -> str:
    name = MONTH_NAMES[month - 1]
    if day is not None:
        return f"{day} {name} {year}"
    return f"end of {name} {year}" if end_of else f"{name} {year}"


def policy_for(label: str, policy: DeadlineDay) -> DeadlineDay:
    """ "end of <Month>" means the end even when deadlines default to the first day."""
    if policy == "first_day" and label.startswith("end of "):
        return "last_working_day"
    return policy


def month_due(year: int, month: int, policy: DeadlineDay, cal: WorkingCalendar) -> dt.date:
    if policy == "first_day":
        return dt.date(year, month, 1)
    if policy == "last_day":
        return dt.date(year, month, _calendar.monthrange(year, month)[1])
    return cal.last_working_day_of_month(year, month)
