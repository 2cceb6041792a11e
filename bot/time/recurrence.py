"""Occurrences of a recurring rule: the one place that turns an RRULE into due dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

from bot.time.workdays import WorkingCalendar

# Rolling an occurrence back to a working day never moves it further than this.
ROLL_MARGIN = dt.timedelta(days=14)


@lru_cache(maxsize=4096)
def parsed_rule(rule: str, dtstart: dt.date) -> rrule:
    """``rule`` (an RRULE line without DTSTART) starting on ``dtstart``, parsed once."""
    parsed = rrulestr(rule, dtstart=dt.datetime.combine(dtstart, dt.time()))
    if not isinstance(parsed, rrule):
        raise ValueError(f"expected a single recurrence rule, got {rule!r}")
    return parsed


def rule_dates(
    rule: str,
    dtstart: dt.date,
    on_or_after: dt.date,
    calendar: WorkingCalendar,
    *,
    roll_back: bool = False,
) -> Iterator[dt.date]:
    """The rule's occurrence dates on or after ``on_or_after``, in order.

    With ``roll_back`` each occurrence moves back to a working day of ``calendar``
    (bank holidays and the partnership's closure days skipped): "every March" is due
    on the month's last working day. The window is widened by the roll margin so an
    occurrence rolled back into it is never missed, and no day is given twice.
    """
    margin = ROLL_MARGIN if roll_back else dt.timedelta(0)
    start = dtstart if on_or_after - dt.date.min <= margin else max(on_or_after - margin, dtstart)
    previous: dt.date | None = None
    for occurrence in parsed_rule(rule, dtstart).xafter(
        dt.datetime.combine(start, dt.time()), inc=True
    ):
        day = occurrence.date()
        if roll_back:
            day = calendar.on_or_before(day)
        if day < on_or_after or day == previous:
            continue
        previous = day
        yield day


def dates_between(
    rule: str,
    dtstart: dt.date,
    on_or_after: dt.date,
    before: dt.date,
    calendar: WorkingCalendar,
    *,
    roll_back: bool = False,
) -> list[dt.date]:
    """The rule's occurrence dates in the half-open window ``on_or_after <= day < before``."""
    out: list[dt.date] = []
    if before <= on_or_after:
        return out
    for day in rule_dates(rule, dtstart, on_or_after, calendar, roll_back=roll_back):
        if day >= before:
            break
        out.append(day)
    return out
