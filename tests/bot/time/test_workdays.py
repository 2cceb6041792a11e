"""Working days and working hours for England and Wales."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.time.workdays import WorkingCalendar, default_calendar

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
D = dt.date


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 1, 1),  # New Year's Day
        D(2026, 4, 3),  # Good Friday
        D(2026, 4, 6),  # Easter Monday
        D(2026, 5, 4),  # early May
        D(2026, 5, 25),  # spring
        D(2026, 8, 31),  # summer
        D(2026, 12, 25),  # Christmas Day (Friday)
        D(2026, 12, 28),  # Boxing Day substitute (26th is a Saturday)
        D(2027, 1, 1),
        D(2027, 3, 26),  # Good Friday 2027
        D(2027, 3, 29),  # Easter Monday 2027
        D(2027, 5, 3),
        D(2027, 5, 31),
        D(2027, 8, 30),
        D(2027, 12, 27),  # Christmas substitute (25th is a Saturday)
        D(2027, 12, 28),  # Boxing Day substitute (26th is a Sunday)
    ],
)
def test_bank_holidays_are_not_working_days(cal: WorkingCalendar, day: dt.date) -> None:
    assert day.weekday() < 5
    assert not cal.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 4, 2),  # Maundy Thursday
        D(2026, 4, 7),  # Tuesday after Easter
        D(2026, 12, 24),
        D(2026, 12, 29),
        D(2027, 12, 29),
        D(2026, 11, 26),
        D(2026, 3, 17),  # St Patrick's Day is a bank holiday only in Northern Ireland
        D(2026, 1, 2),  # 2 January is a bank holiday only in Scotland
        D(2026, 8, 3),  # Scottish summer holiday
    ],
)
def test_ordinary_weekdays_are_working_days(cal: WorkingCalendar, day: dt.date) -> None:
    assert cal.is_working_day(day)


def test_weekends_are_not_working_days(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(D(2026, 11, 28))  # Saturday
    assert not cal.is_working_day(D(2026, 11, 29))  # Sunday
    assert cal.is_working_day(D(2026, 11, 30))


def test_boxing_day_2026_is_a_saturday_and_monday_28_is_the_holiday(
    cal: WorkingCalendar,
) -> None:
    assert D(2026, 12, 26).weekday() == 5
    assert D(2026, 12, 28) in cal.bank_holidays(2026)
    assert cal.next_working_day(D(2026, 12, 24)) == D(2026, 12, 29)


def test_extra_closures() -> None:
    closed = WorkingCalendar(extra_closures=[D(2026, 12, 24), D(2026, 12, 29)])
    assert not closed.is_working_day(D(2026, 12, 24))
    assert closed.next_working_day(D(2026, 12, 23)) == D(2026, 12, 30)
    assert closed.extra_closures == frozenset({D(2026, 12, 24), D(2026, 12, 29)})
    # the shared calendar is unaffected
    assert default_calendar().is_working_day(D(2026, 12, 24))


def test_default_calendar_is_cached() -> None:
    assert default_calendar() is default_calendar()


def test_previous_and_next_are_strict(cal: WorkingCalendar) -> None:
    assert cal.previous_working_day(D(2026, 11, 26)) == D(2026, 11, 25)
    assert cal.next_working_day(D(2026, 11, 26)) == D(2026, 11, 27)
    # over Easter 2026
    assert cal.previous_working_day(D(2026, 4, 7)) == D(2026, 4, 2)
    assert cal.next_working_day(D(2026, 4, 2)) == D(2026, 4, 7)


def test_on_or_before_and_after(cal: WorkingCalendar) -> None:
    assert cal.on_or_before(D(2026, 11, 26)) == D(2026, 11, 26)
    assert cal.on_or_before(D(2026, 11, 29)) == D(2026, 11, 27)
    assert cal.on_or_before(D(2026, 4, 6)) == D(2026, 4, 2)
    assert cal.on_or_after(D(2026, 4, 3)) == D(2026, 4, 7)
    assert cal.on_or_after(D(2026, 4, 7)) == D(2026, 4, 7)


def test_add_working_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 11, 26), 0) == D(2026, 11, 26)
    assert cal.add_working_days(D(2026, 11, 26), 1) == D(2026, 11, 27)
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)
    assert cal.add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)  # from Saturday
    assert cal.add_working_days(D(2026, 4, 1), 2) == D(2026, 4, 7)
    assert cal.add_working_days(D(2026, 12, 23), 3) == D(2026, 12, 30)
    assert cal.add_working_days(D(2026, 12, 30), -3) == D(2026, 12, 23)
    assert cal.add_working_days(D(2026, 11, 26), 10) == D(2026, 12, 10)


def test_add_working_days_accepts_datetime_as_its_date(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(london(2026, 11, 27, 12), 1) == D(2026, 11, 30)


def test_last_working_day_of_month(cal: WorkingCalendar) -> None:
    assert cal.last_working_day_of_month(2016, 4) == D(2016, 4, 29)  # 30th a Saturday
    assert cal.last_working_day_of_month(2016, 3) == D(2016, 3, 31)
    assert cal.last_working_day_of_month(2016, 10) == D(2016, 10, 31)
    assert cal.last_working_day_of_month(2017, 2) == D(2017, 2, 28)
    assert cal.last_working_day_of_month(2026, 8) == D(2026, 8, 28)  # 31st bank holiday
    assert cal.last_working_day_of_month(2027, 12) == D(2027, 12, 31)
    assert cal.last_working_day_of_month(2026, 5) == D(2026, 5, 29)
    assert cal.first_working_day_of_month(2027, 5) == D(2027, 5, 4)  # 3rd early May


def test_working_days_between(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(D(2026, 12, 23), D(2026, 12, 30)) == 3
    assert cal.working_days_between(D(2026, 12, 30), D(2026, 12, 23)) == -3
    assert cal.working_days_between(D(2026, 12, 23), D(2026, 12, 23)) == 0


class TestWorkingTime:
    def test_four_hours_inside_one_day(self, cal: WorkingCalendar) -> None:
        # 26 Nov 2026 is GMT, so local == UTC
        assert cal.add_working_time(london(2026, 11, 26, 10), dt.timedelta(hours=4), LONDON) == (
            utc(2026, 11, 26, 14)
        )

    def test_exactly_to_close_of_day_ends_that_day(self, cal: WorkingCalendar) -> None:
        assert cal.add_working_time(london(2026, 11, 26, 13), dt.timedelta(hours=4), LONDON) == (
            utc(2026, 11, 26, 17)
        )

    def test_across_easter_bank_holiday_weekend(self, cal: WorkingCalendar) -> None:
        # Thursday 2 April 2026 15:00 BST + 4 working hours: 2 h on Thursday, Good
        # Friday, the weekend and Easter Monday skipped, 2 h on Tuesday -> 11:00 BST.
        got = cal.add_working_time(london(2026, 4, 2, 15), dt.timedelta(hours=4), LONDON)
        assert got == utc(2026, 4, 7, 10)
        assert got.tzinfo is UTC
        assert got.astimezone(LONDON) == london(2026, 4, 7, 11)

    def test_one_working_day_is_eight_hours_over_christmas(self, cal: WorkingCalendar) -> None:
        got = cal.add_working_time(london(2026, 12, 24, 16), dt.timedelta(hours=8), LONDON)
        assert got == utc(2026, 12, 29, 16)

    def test_start_outside_hours_counts_from_next_morning(self, cal: WorkingCalendar) -> None:
        # Saturday evening -> Monday 09:00 + 4 h
        assert cal.add_working_time(london(2026, 11, 28, 20), dt.timedelta(hours=4), LONDON) == (
            utc(2026, 11, 30, 13)
        )
        # before opening on a working day
        assert cal.add_working_time(london(2026, 11, 26, 7), dt.timedelta(hours=1), LONDON) == (
            utc(2026, 11, 26, 10)
        )
        # after closing
        assert cal.add_working_time(
            london(2026, 11, 26, 17, 30), dt.timedelta(hours=1), LONDON
        ) == utc(2026, 11, 27, 10)

    def test_zero_delta_rolls_forward_only(self, cal: WorkingCalendar) -> None:
        assert cal.add_working_time(london(2026, 11, 26, 10), dt.timedelta(0), LONDON) == (
            utc(2026, 11, 26, 10)
        )
        assert cal.add_working_time(london(2026, 11, 28, 10), dt.timedelta(0), LONDON) == (
            utc(2026, 11, 30, 9)
        )

    def test_input_in_another_zone(self, cal: WorkingCalendar) -> None:
        # 13:00 UTC on 7 April 2026 is 14:00 BST
        got = cal.add_working_time(utc(2026, 4, 7, 13), dt.timedelta(hours=3, minutes=30), LONDON)
        assert got.astimezone(LONDON) == london(2026, 4, 8, 9, 30)

    def test_across_clock_change(self, cal: WorkingCalendar) -> None:
        # Friday 27 March 2026 16:00 GMT; clocks go forward on Sunday 29 March.
        got = cal.add_working_time(london(2026, 3, 27, 16), dt.timedelta(hours=2), LONDON)
        assert got.astimezone(LONDON) == london(2026, 3, 30, 10)
        assert got == utc(2026, 3, 30, 9)

    def test_custom_hours(self, cal: WorkingCalendar) -> None:
        got = cal.add_working_time(
            london(2026, 11, 26, 16),
            dt.timedelta(hours=2),
            LONDON,
            day_start=dt.time(8, 30),
            day_end=dt.time(16, 30),
        )
        assert got == utc(2026, 11, 27, 10)

    def test_rejects_naive_and_negative(self, cal: WorkingCalendar) -> None:
        with pytest.raises(ValueError, match="aware"):
            cal.add_working_time(
                dt.datetime(2026, 11, 26, 10),  # noqa: DTZ001
                dt.timedelta(hours=1),
                LONDON,
            )
        with pytest.raises(ValueError, match="zero or more"):
            cal.add_working_time(london(2026, 11, 26, 10), dt.timedelta(hours=-1), LONDON)
        with pytest.raises(ValueError, match="start before"):
            cal.add_working_time(
                london(2026, 11, 26, 10),
                dt.timedelta(hours=1),
                LONDON,
                day_start=dt.time(17),
                day_end=dt.time(9),
            )

    def test_is_working_time_and_next_working_moment(self, cal: WorkingCalendar) -> None:
        assert cal.is_working_time(london(2026, 11, 26, 9), LONDON)
        assert not cal.is_working_time(london(2026, 11, 26, 17), LONDON)
        assert not cal.is_working_time(london(2026, 12, 28, 12), LONDON)
        assert cal.next_working_moment(london(2026, 12, 24, 17), LONDON) == utc(2026, 12, 29, 9)
        assert cal.next_working_moment(london(2026, 11, 26, 12), LONDON) == utc(2026, 11, 26, 12)


class TestWorkingDaysAt:
    def test_same_clock_time_next_working_day(self, cal: WorkingCalendar) -> None:
        got = cal.add_working_days_at(london(2026, 4, 2, 15), 1, LONDON)
        assert got.astimezone(LONDON) == london(2026, 4, 7, 15)

    def test_outside_hours_rolls_forward_first(self, cal: WorkingCalendar) -> None:
        # Saturday 20:00 -> Monday 09:00 -> one working day later: Tuesday 09:00
        got = cal.add_working_days_at(london(2026, 11, 28, 20), 1, LONDON)
        assert got == utc(2026, 12, 1, 9)
        assert cal.add_working_days_at(london(2026, 11, 26, 18), 0, LONDON) == utc(2026, 11, 27, 9)

    def test_keeps_local_time_across_clock_change(self, cal: WorkingCalendar) -> None:
        got = cal.add_working_days_at(london(2026, 3, 27, 10), 1, LONDON)
        assert got.astimezone(LONDON) == london(2026, 3, 30, 10)
        assert got == utc(2026, 3, 30, 9)

    def test_rejects_negative(self, cal: WorkingCalendar) -> None:
        with pytest.raises(ValueError):
            cal.add_working_days_at(london(2026, 3, 27, 10), -1, LONDON)


@given(
    day=st.dates(min_value=D(2000, 1, 1), max_value=D(2060, 12, 31)),
    n=st.integers(min_value=-40, max_value=40),
)
def test_add_working_days_lands_on_working_days_and_counts_back(day: dt.date, n: int) -> None:
    cal = default_calendar()
    got = cal.add_working_days(day, n)
    if n == 0:
        assert got == day
        return
    assert cal.is_working_day(got)
    assert (got > day) == (n > 0)
    # n working days lie in (day, got] going forwards, in [got, day) going backwards
    low, high = (day, got) if n > 0 else (got - dt.timedelta(days=1), day - dt.timedelta(days=1))
    span = [low + dt.timedelta(days=i + 1) for i in range((high - low).days)]
    assert sum(cal.is_working_day(d) for d in span) == abs(n)
    if n > 0:
        assert cal.working_days_between(day, got) == n


@given(
    start=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001
        max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    minutes=st.integers(min_value=0, max_value=60 * 8 * 15),
)
def test_add_working_time_is_monotonic_and_ends_in_working_hours(
    start: dt.datetime, minutes: int
) -> None:
    cal = default_calendar()
    got = cal.add_working_time(start, dt.timedelta(minutes=minutes), LONDON)
    more = cal.add_working_time(start, dt.timedelta(minutes=minutes + 30), LONDON)
    assert got.tzinfo is UTC
    assert got >= start
    assert more > got
    local = got.astimezone(LONDON)
    assert cal.is_working_day(local.date())
    assert dt.time(9) <= local.time() <= dt.time(17)
