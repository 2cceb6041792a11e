"""Recurring forms: "every March", "31 March annually", and quarterly or monthly runs."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Sequence

from bot.time.timescale.bodies import bodies_for
from bot.time.timescale.duedates import DeadlineDay, date_label
from bot.time.timescale.lexicon import MONTH_NAMES
from bot.time.timescale.model import Recurrence
from bot.time.timescale.state import Item, Pending, Walk

DEFAULT_REFERENCE_YEAR = 1970


def _recurrence_for_item(
    item: Item,
    body: str | None,
    reference_year: int | None,
    policy: DeadlineDay,
    year_given: bool,
) -> Recurrence:
    start_year = item.year if year_given else (reference_year or DEFAULT_REFERENCE_YEAR)
    name = MONTH_NAMES[item.month - 1]
    if item.day is not None:
        last = _calendar.monthrange(start_year, item.month)[1]
        return Recurrence(
            rrule=f"FREQ=YEARLY;BYMONTH={item.month};BYMONTHDAY={item.day}",
            dtstart=dt.date(start_year, item.month, min(item.day, last)),
            body=body,
            label=f"{item.day} {name} annually",
        )
    by_day = 1 if policy == "first_day" else -1
    label = f"every {name}" + (f" from {start_year}" if year_given else "")
    return Recurrence(
        rrule=f"FREQ=YEARLY;BYMONTH={item.month};BYMONTHDAY={by_day}",
        dtstart=dt.date(start_year, item.month, 1),
        body=body,
        label=label,
        month_only=True,
        roll="previous_working_day" if policy == "last_working_day" else "none",
    )


def yearly(
    item: Item, bodies: Sequence[str], reference_year: int | None, policy: DeadlineDay
) -> list[Recurrence]:
    """The yearly rules for a dated item of an "annually" text (one per body)."""
    return [
        _recurrence_for_item(item, b, reference_year, policy, True)
        for b in bodies_for(item, bodies)
    ]


def _valid_day_month(day: int, month: int) -> bool:
    return day <= _calendar.monthrange(2000, month)[1]  # 2000 is a leap year


def yearly_without_year(
    pending: Sequence[Pending],
    current_body: str | None,
    bodies: Sequence[str],
    reference_year: int | None,
    policy: DeadlineDay,
    problems: list[str],
) -> list[Recurrence]:
    """The yearly rules for months an "annually" text gives no year ("31 March annually");
    what cannot be a yearly date goes into ``problems``."""
    recurrences: list[Recurrence] = []
    for p in pending:
        if p.quarter is not None:
            problems.append(f"'Q{p.quarter}' has no year")
            continue
        item = Item(DEFAULT_REFERENCE_YEAR, p.month, p.day, "", current_body)
        if p.day is not None and not _valid_day_month(p.day, p.month):
            problems.append(f"'{p.day} {MONTH_NAMES[p.month - 1]}' is not a real date")
            continue
        recurrences.extend(
            _recurrence_for_item(item, b, reference_year, policy, False)
            for b in bodies_for(item, bodies)
        )
    return recurrences


def _periodic(
    months: int,
    start: dt.date,
    body: str | None,
    label: str,
    policy: DeadlineDay,
) -> Recurrence:
    by_day = 1 if policy == "first_day" else -1
    rule = "FREQ=MONTHLY" + (f";INTERVAL={months}" if months > 1 else "")
    return Recurrence(
        rrule=f"{rule};BYMONTHDAY={by_day}",
        dtstart=start.replace(day=1),
        body=body,
        label=label,
        month_only=True,
        roll="previous_working_day" if policy == "last_working_day" else "none",
    )


def take_run_start(walk: Walk) -> tuple[dt.date | None, str, str | None]:
    """The start of a quarterly or monthly run, its label and body: "quarterly from April
    2016" gives its one month to the run (taken out of ``walk.items``)."""
    items = walk.items
    if (walk.quarterly or walk.monthly) and len(items) == 1 and items[0].day is None:
        start_item = items.pop(0)  # "quarterly from April 2016": the first of the run
        start = dt.date(start_item.year, start_item.month, 1)
        return start, f"from {date_label(None, start_item.month, start_item.year)}", start_item.body
    return None, "", walk.current_body


def runs(
    walk: Walk,
    start: dt.date | None,
    period_label: str,
    period_body: str | None,
    bodies: Sequence[str],
    reference_year: int | None,
    policy: DeadlineDay,
) -> list[Recurrence]:
    """The quarterly and monthly rules the text asks for (one per body)."""
    recurrences: list[Recurrence] = []
    period_bodies: list[str | None] = [period_body] if period_body else ([*bodies] or [None])
    ref = reference_year or DEFAULT_REFERENCE_YEAR
    if walk.quarterly:
        first = start or dt.date(ref, 3, 1)
        label = " ".join(filter(None, ["quarterly", period_label]))
        recurrences.extend(_periodic(3, first, b, label, policy) for b in period_bodies)
    if walk.monthly:
        first = start or dt.date(ref, 1, 1)
        label = " ".join(filter(None, ["monthly", period_label]))
        recurrences.extend(_periodic(1, first, b, label, policy) for b in period_bodies)
    return recurrences
