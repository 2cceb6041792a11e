"""Working days and working hours for England and Wales.

A working day is Monday to Friday and not a bank holiday of England and Wales
(from the ``holidays`` package), nor one of the partnership's own closure days.
Working time is 09:00 to 17:00 local time on a working day, in the zone the
caller passes (the partnership's zone, Europe/London by default elsewhere).

Everything here is pure: no database, no Slack, no "today".
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import functools
import threading
from collections.abc import Iterable
from zoneinfo import ZoneInfo

WORKING_DAY_START = dt.time(9)
WORKING_DAY_END = dt.time(17)

# A step limit for the day-by-day walks below; far beyond any real use (about
# 270 years), it turns a runaway argument into a clear error instead of a hang.
_MAX_DAYS_WALKED = 100_000


class WorkingCalendar:
    """Working days of England and Wales, plus optional extra closure dates.

    Bank holidays are loaded one year at a time, the first time a date in that
    year is asked about.
    """

    def __init__(self, extra_closures: Iterable[dt.date] = ()) -> None:
        self._extra_closures = frozenset(_as_date(d) for d in extra_closures)
        self._bank_holidays: dict[int, frozenset[dt.date]] = {}
        self._lock = threading.Lock()

    @property
    def extra_closures(self) -> frozenset[dt.date]:
        return self._extra_closures

    def bank_holidays(self, year: int) -> frozenset[dt.date]:
        """The bank holidays of England and Wales in ``year`` (loaded on first use)."""
        cached = self._bank_holidays.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._bank_holidays.get(year)
            if cached is None:
                # Imported on first use: it loads every country (an idle sweep needs none).
                import holidays

                table = holidays.country_holidays("GB", subdiv="ENG", years=year)
                cached = frozenset(d for d in table if d.year == year)
                self._bank_holidays[year] = cached
        return cached

    def is_working_day(self, d: dt.date) -> bool:
        d = _as_date(d)
        if d.weekday() >= 5:
            return False
        if d in self._extra_closures:
            return False
        return d not in self.bank_holidays(d.year)

    def previous_working_day(self, d: dt.date) -> dt.date:
        """The last working day strictly before ``d``."""
        return self._walk(_as_date(d), -1)

    def next_working_day(self, d: dt.date) -> dt.date:
        """The first working day strictly after ``d``."""
        return self._walk(_as_date(d), 1)

    def on_or_before(self, d: dt.date) -> dt.date:
        """``d`` if it is a working day, else the working day before it."""
        d = _as_date(d)
        return d if self.is_working_day(d) else self.previous_working_day(d)

    def on_or_after(self, d: dt.date) -> dt.date:
        """``d`` if it is a working day, else the working day after it."""
        d = _as_date(d)
        return d if self.is_working_day(d) else self.next_working_day(d)

    def add_working_days(self, d: dt.date, n: int) -> dt.date:
        """Count ``n`` working days on from ``d`` (backwards when ``n`` is negative).

        ``d`` itself is not counted, so from a Saturday one working day on is
        the Monday. ``n == 0`` returns ``d`` unchanged.
        """
        d = _as_date(d)
        step = 1 if n > 0 else -1
        for _ in range(abs(n)):
            d = self._walk(d, step)
        return d

    def last_working_day_of_month(self, year: int, month: int) -> dt.date:
        last = dt.date(year, month, _calendar.monthrange(year, month)[1])
        return self.on_or_before(last)

    def first_working_day_of_month(self, year: int, month: int) -> dt.date:
        return self.on_or_after(dt.date(year, month, 1))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days fall in ``start < day <= end`` (negative if reversed)."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += dt.timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count

    def is_working_time(
        self,
        at: dt.datetime,
        zone: ZoneInfo,
        day_start: dt.time = WORKING_DAY_START,
        day_end: dt.time = WORKING_DAY_END,
    ) -> bool:
        """Whether ``at`` falls in ``[day_start, day_end)`` local time on a working day."""
        local = _require_aware(at, "at").astimezone(zone)
        if not self.is_working_day(local.date()):
            return False
        return day_start <= local.time().replace(tzinfo=None) < day_end

    def next_working_moment(
        self,
        at: dt.datetime,
        zone: ZoneInfo,
        day_start: dt.time = WORKING_DAY_START,
        day_end: dt.time = WORKING_DAY_END,
    ) -> dt.datetime:
        """``at`` itself if it is working time, else the next start of a working day (UTC)."""
        _check_window(day_start, day_end)
        local = _require_aware(at, "at").astimezone(zone)
        return _rolled_forward(self, local, zone, day_start, day_end).astimezone(dt.UTC)

    def add_working_time(
        self,
        start: dt.datetime,
        delta: dt.timedelta,
        zone: ZoneInfo,
        day_start: dt.time = WORKING_DAY_START,
        day_end: dt.time = WORKING_DAY_END,
    ) -> dt.datetime:
        """The moment ``delta`` of working time after ``start``, as an aware UTC datetime.

        Only time between ``day_start`` and ``day_end`` (local, in ``zone``) on
        working days counts, so "4 working hours" from Friday 15:00 before a
        bank-holiday Monday ends on Tuesday at 11:00. A start outside working
        time counts from the next working moment. Time that runs out exactly at
        the end of a working day ends then (17:00), not the next morning.
        """
        _check_window(day_start, day_end)
        if delta < dt.timedelta(0):
            raise ValueError("add_working_time needs a delta of zero or more")
        local = _rolled_forward(
            self, _require_aware(start, "start").astimezone(zone), zone, day_start, day_end
        )
        remaining = delta
        for _ in range(_MAX_DAYS_WALKED):
            window_end = dt.datetime.combine(local.date(), day_end, tzinfo=zone)
            available = _elapsed(local, window_end)
            if remaining <= available:
                return local.astimezone(dt.UTC) + remaining
            remaining -= available
            next_day = self.next_working_day(local.date())
            local = dt.datetime.combine(next_day, day_start, tzinfo=zone)
        raise ValueError("add_working_time: delta is too large")

    def add_working_days_at(
        self,
        start: dt.datetime,
        n: int,
        zone: ZoneInfo,
        day_start: dt.time = WORKING_DAY_START,
        day_end: dt.time = WORKING_DAY_END,
    ) -> dt.datetime:
        """The same local clock time ``n`` working days after ``start`` (aware UTC).

        A start outside working time is first moved to the next working moment
        (the next 09:00 on a working day), so a referral logged on Saturday at
        20:00 is due "1 working day" later on Tuesday at 09:00.
        """
        _check_window(day_start, day_end)
        if n < 0:
            raise ValueError("add_working_days_at needs n of zero or more")
        local = _rolled_forward(
            self, _require_aware(start, "start").astimezone(zone), zone, day_start, day_end
        )
        target_day = self.add_working_days(local.date(), n)
        wall = local.time().replace(tzinfo=None, fold=0)
        target = dt.datetime.combine(target_day, wall, tzinfo=zone)
        return target.astimezone(dt.UTC)

    def _walk(self, d: dt.date, step: int) -> dt.date:
        one = dt.timedelta(days=step)
        for _ in range(_MAX_DAYS_WALKED):
            d = d + one
            if self.is_working_day(d):
                return d
        raise ValueError("no working day found; check the extra closure dates")


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The shared England and Wales calendar with no extra closures."""
    return WorkingCalendar()


def _as_date(d: dt.date) -> dt.date:
    """Accept a date (a datetime is reduced to its date part)."""
    if isinstance(d, dt.datetime):
        return d.date()
    return d


def _require_aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")
    return value


def _check_window(day_start: dt.time, day_end: dt.time) -> None:
    if not day_start < day_end:
        raise ValueError("the working day must start before it ends")


def _elapsed(earlier: dt.datetime, later: dt.datetime) -> dt.timedelta:
    """Real elapsed time between two aware datetimes (correct across clock changes)."""
    return later.astimezone(dt.UTC) - earlier.astimezone(dt.UTC)


def _rolled_forward(
    cal: WorkingCalendar,
    local: dt.datetime,
    zone: ZoneInfo,
    day_start: dt.time,
    day_end: dt.time,
) -> dt.datetime:
    """``local`` if it is working time, else the next working day's start (local)."""
    day = local.date()
    wall = local.time().replace(tzinfo=None)
    if cal.is_working_day(day):
        if wall < day_start:
            return dt.datetime.combine(day, day_start, tzinfo=zone)
        if wall < day_end:
            return local
    return dt.datetime.combine(cal.next_working_day(day), day_start, tzinfo=zone)
