"""Financial-year quarters: what people type, and where each quarter starts and ends."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.time.quarters import Quarter, QuarterError, parse_quarter, quarter_of


@pytest.mark.parametrize(
    "typed", ["2026Q3", "2026q3", "2026-Q3", "2026/27 Q3", "Q3 2026", " q3  2026 "]
)
def test_the_ways_of_typing_a_quarter(typed: str) -> None:
    assert parse_quarter(typed) == Quarter(2026, 3)


def test_q1_is_april_to_june_and_q4_runs_into_the_next_calendar_year() -> None:
    q3 = parse_quarter("2026Q3")
    assert (q3.start, q3.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert q3.label == "Q3 2026/27" and q3.months == "October to December 2026"
    q1 = parse_quarter("2026Q1")
    assert (q1.start, q1.end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    q4 = parse_quarter("2026Q4")
    assert (q4.start, q4.end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert q4.months == "January to March 2027"
    assert q1.previous() == Quarter(2025, 4) and q4.next() == Quarter(2027, 1)


def test_the_quarter_a_day_falls_in() -> None:
    assert quarter_of(dt.date(2026, 11, 26)).code == "2026Q3"
    assert quarter_of(dt.date(2027, 3, 31)).code == "2026Q4"
    assert quarter_of(dt.date(2026, 4, 1)).code == "2026Q1"


@pytest.mark.parametrize("typed", ["2026Q5", "Q3", "autumn", "2026", "1999Q1"])
def test_a_bad_quarter_says_how_to_write_one(typed: str) -> None:
    with pytest.raises(QuarterError) as caught:
        parse_quarter(typed)
    assert "like 2026Q3" in str(caught.value) and "Q1 is April to June" in str(caught.value)
