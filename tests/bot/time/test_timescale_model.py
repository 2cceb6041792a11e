"""What a timescale reads as: recurrence windows, next dates, rolling over, JSON."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.time.timescale.model import Recurrence, Timescale
from bot.time.timescale.parse import parse_timescale
from tests.bot.time.timescales import (
    MARCH_31_ANNUALLY,
    MEETINGS_TEXT,
    OCB,
    RAG,
    SCRUTINY_TEXT,
    SEED_EXPECTED,
    D,
    month_deadline,
)


def test_occurrences_are_a_half_open_window() -> None:
    r = MARCH_31_ANNUALLY
    assert r.occurrences(D(2026, 3, 31), D(2027, 3, 31)) == [D(2026, 3, 31)]
    assert r.occurrences(D(2026, 4, 1), D(2027, 4, 1)) == [D(2027, 3, 31)]
    assert r.occurrences(D(2026, 4, 1), D(2026, 4, 1)) == []
    assert r.occurrences(D(1960, 1, 1), D(1972, 1, 1)) == [D(1970, 3, 31), D(1971, 3, 31)]


def test_recurrence_rejects_a_bad_rule() -> None:
    with pytest.raises(ValidationError):
        Recurrence(rrule="FREQ=SOMETIMES", dtstart=D(2026, 1, 1), label="x")
    with pytest.raises(ValidationError):
        Recurrence(rrule="RRULE:FREQ=YEARLY", dtstart=D(2026, 1, 1), label="x")


def test_next_dates_mixes_everything_in_order() -> None:
    meetings = parse_timescale(MEETINGS_TEXT)
    assert meetings.next_dates(D(2016, 9, 15), count=3) == [
        (D(2016, 9, 1), f"{RAG} meeting, September 2016 (date to be set)"),
        (D(2016, 9, 1), f"{OCB} meeting, September 2016 (date to be set)"),
        (D(2016, 12, 1), f"{RAG} meeting, December 2016 (date to be set)"),
    ]
    scrutiny = parse_timescale(SCRUTINY_TEXT)
    assert scrutiny.next_dates(D(2016, 4, 1)) == [
        (D(2016, 10, 31), "Maldon District Council: October 2016"),
        (D(2017, 2, 28), "Chelmsford City Council: February 2017"),
    ]
    survey = parse_timescale("31 st March annually")
    assert survey.next_dates(D(2026, 11, 26), count=2) == [
        (D(2027, 3, 31), "31 March annually"),
        (D(2028, 3, 31), "31 March annually"),
    ]
    assert parse_timescale("Ongoing").next_dates(D(2026, 1, 1)) == []


def test_shift_years_recomputes_month_deadlines() -> None:
    plan = parse_timescale("April 2016").shift_years(1)
    # 29 April 2017 is a Saturday: the new deadline is the last working day again
    assert plan.milestones == (month_deadline(D(2017, 4, 28), "April 2017"),)
    assert plan.original == "April 2016"


def test_shift_years_moves_every_kind_of_date() -> None:
    shifted = parse_timescale(SCRUTINY_TEXT).shift_years(10)
    assert [(m.due_on, m.label, m.body) for m in shifted.milestones] == [
        (D(2026, 3, 31), "March 2026", "Maldon District Council"),
        (D(2026, 10, 30), "October 2026", "Maldon District Council"),  # 31st a Saturday
        (D(2027, 2, 26), "February 2027", "Chelmsford City Council"),  # 28th a Sunday
    ]
    meetings = parse_timescale(MEETINGS_TEXT).shift_years(1)
    assert [s.month for s in meetings.meetings[:5]] == [
        D(2017, 3, 1),
        D(2017, 6, 1),
        D(2017, 9, 1),
        D(2017, 12, 1),
        D(2018, 3, 1),
    ]
    survey = parse_timescale("31 March annually", reference_year=2016).shift_years(1)
    assert survey.recurrences[0].dtstart == D(2017, 3, 31)
    assert survey.recurrences[0].label == "31 March annually"
    leap = parse_timescale("29 February 2016").shift_years(1)
    assert leap.milestones[0].due_on == D(2017, 2, 28)
    assert leap.milestones[0].label == "28 February 2017"
    fy = parse_timescale("Q1 2016/17").shift_years(1)
    assert fy.milestones[0].label == "Q1 2017/18"
    assert fy.milestones[0].due_on == D(2017, 6, 30)


def test_json_round_trip() -> None:
    for text in [*SEED_EXPECTED, "every March", "Q1 2017/18", "TBC"]:
        got = parse_timescale(text)
        assert Timescale.model_validate_json(got.model_dump_json()) == got
