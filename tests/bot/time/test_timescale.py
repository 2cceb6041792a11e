"""Reading the plan's free-text Timescale column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.time.timescale.model import MeetingSlot, Milestone, Recurrence, Timescale
from bot.time.timescale.parse import PARSER_FAILURE_FLAG, parse_timescale
from bot.time.workdays import WorkingCalendar
from tests.bot.time.timescales import MARCH_31_ANNUALLY, D, month_deadline


def test_deadline_day_options() -> None:
    assert parse_timescale("April 2016", deadline_day="last_day").milestones[0].due_on == D(
        2016, 4, 30
    )
    assert parse_timescale("April 2016", deadline_day="first_day").milestones[0].due_on == D(
        2016, 4, 1
    )
    # "end of" is the end even when month deadlines default to the first day
    end_of = parse_timescale("by end of June 2016", deadline_day="first_day")
    assert end_of.milestones[0].due_on == D(2016, 6, 30)


def test_calendar_with_extra_closures_moves_month_deadlines() -> None:
    closed = WorkingCalendar(extra_closures=[D(2016, 4, 29)])
    assert parse_timescale("April 2016", calendar=closed).milestones[0].due_on == D(2016, 4, 28)


def test_reference_year_sets_the_start_of_yearly_rules() -> None:
    got = parse_timescale("31 st March annually", reference_year=2026)
    assert got.recurrences == (MARCH_31_ANNUALLY.model_copy(update={"dtstart": D(2026, 3, 31)}),)
    assert got.flag is None


@pytest.mark.parametrize(
    "text",
    [
        "31st March annually",
        "31 st March annually",
        "annually on 31 March",
        "31 March each year",
        "31 March every year",
        "31 mar annually.",
        "  31ST   MARCH   ANNUALLY ",
        "March 31st annually",
    ],
)
def test_yearly_date_spellings(text: str) -> None:
    got = parse_timescale(text)
    assert got.recurrences == (MARCH_31_ANNUALLY,)
    assert got.flag is None
    assert not got.ongoing
    assert got.original == text


@pytest.mark.parametrize(
    "text",
    [
        "15 June 2016",
        "15/06/2016",
        "2016-06-15",
        "15th June 2016",
        "June 15th, 2016",
        "15 Jun 2016",
    ],
)
def test_explicit_dates(text: str) -> None:
    got = parse_timescale(text)
    assert got.milestones == (
        Milestone(due_on=D(2016, 6, 15), month_only=False, kind="deadline", label="15 June 2016"),
    )
    assert got.flag is None


def test_two_digit_year_uk_order() -> None:
    assert parse_timescale("01/02/17").milestones[0].due_on == D(2017, 2, 1)


def test_end_of_month() -> None:
    got = parse_timescale("by end of June 2016")
    assert got.milestones == (month_deadline(D(2016, 6, 30), "end of June 2016"),)
    assert got.flag is None


def test_month_abbreviations_any_case() -> None:
    got = parse_timescale("SEPT 2026, oct 2026 and Dec. 2026")
    assert [m.due_on for m in got.milestones] == [D(2026, 9, 30), D(2026, 10, 30), D(2026, 12, 31)]
    assert [m.label for m in got.milestones] == [
        "September 2026",
        "October 2026",
        "December 2026",
    ]
    assert got.flag is None


def test_quarters() -> None:
    assert parse_timescale("Q1 2017").milestones == (month_deadline(D(2017, 3, 31), "Q1 2017"),)
    assert parse_timescale("Q4 2026").milestones == (month_deadline(D(2026, 12, 31), "Q4 2026"),)
    # financial-year quarters: Q1 is April to June, Q4 ends in March of the next year
    assert parse_timescale("Q1 2017/18").milestones == (
        month_deadline(D(2017, 6, 30), "Q1 2017/18"),
    )
    assert parse_timescale("Q4 2016/17").milestones == (
        month_deadline(D(2017, 3, 31), "Q4 2016/17"),
    )


def test_quarterly_and_monthly_rules() -> None:
    quarterly = parse_timescale("Quarterly")
    assert quarterly.recurrences == (
        Recurrence(
            rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1",
            dtstart=D(1970, 3, 1),
            label="quarterly",
            month_only=True,
            roll="previous_working_day",
        ),
    )
    assert quarterly.recurrences[0].occurrences(D(2026, 1, 1), D(2027, 1, 1)) == [
        D(2026, 3, 31),
        D(2026, 6, 30),
        D(2026, 9, 30),
        D(2026, 12, 31),
    ]
    monthly = parse_timescale("monthly")
    assert monthly.recurrences[0].occurrences(D(2026, 7, 1), D(2026, 11, 1)) == [
        D(2026, 7, 31),
        D(2026, 8, 28),  # 31 August 2026 is the summer bank holiday; 29-30 a weekend
        D(2026, 9, 30),
        D(2026, 10, 30),  # 31 October 2026 is a Saturday
    ]
    started = parse_timescale("quarterly from April 2016")
    assert started.milestones == ()
    assert started.recurrences[0].label == "quarterly from April 2016"
    assert started.recurrences[0].occurrences(D(2016, 1, 1), D(2017, 2, 1)) == [
        D(2016, 4, 29),
        D(2016, 7, 29),
        D(2016, 10, 31),
        D(2017, 1, 31),
    ]


def test_every_month_name_is_yearly_and_month_only() -> None:
    got = parse_timescale("every March")
    assert got.recurrences == (
        Recurrence(
            rrule="FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1",
            dtstart=D(1970, 3, 1),
            label="every March",
            month_only=True,
            roll="previous_working_day",
        ),
    )
    assert got.recurrences[0].occurrences(D(2026, 1, 1), D(2028, 1, 1)) == [
        D(2026, 3, 31),
        D(2027, 3, 31),
    ]
    # 31 March 2029 is a Saturday and Friday 30 March is Good Friday
    assert got.recurrences[0].next_occurrences(D(2029, 1, 1), 1) == [D(2029, 3, 29)]
    assert parse_timescale("every March", deadline_day="last_day").recurrences[0].roll == "none"
    assert got.flag is None


def test_annual_meeting_of_named_bodies() -> None:
    got = parse_timescale("Board and Panel meetings 31 March annually")
    assert [(r.body, r.rrule) for r in got.recurrences] == [
        ("Board", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31"),
        ("Panel", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31"),
    ]
    assert got.flag is None


def test_body_named_before_the_dates() -> None:
    got = parse_timescale("For Essex Police and Crime Commissioner: June 2026")
    assert got.milestones == (
        month_deadline(D(2026, 6, 30), "June 2026", "Essex Police and Crime Commissioner"),
    )
    assert got.flag is None


def test_meeting_with_no_named_body() -> None:
    got = parse_timescale("Meetings in March 2026")
    assert got.meetings == (MeetingSlot(body="", month=D(2026, 3, 1)),)
    assert got.meetings[0].label == "Meeting, March 2026 (date to be set)"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "No timescale given"),
        ("   ", "No timescale given"),
        ("TBC", "to be confirmed"),
        ("tba", "to be confirmed"),
        ("To be confirmed", "to be confirmed"),
        ("asap", "as soon as possible"),
        ("As soon as possible", "as soon as possible"),
        ("whenever funding allows", "Could not read 'whenever funding allows'"),
        ("31 April 2016", "'31 April 2016' is not a real date"),
        ("weekly", "Could not read 'weekly'"),
        ("annually", "not when in the year"),
        ("March", "no year given for March"),
        ("Q2", "no year given for Q2"),
    ],
)
def test_unreadable_text_is_kept_and_flagged(text: str, words: str) -> None:
    got = parse_timescale(text)
    assert got.unparsed
    assert got.original == text
    assert got.flag is not None
    assert words.lower() in got.flag.lower()
    assert "Please set a date" in got.flag or "add a date" in got.flag
    assert not (got.milestones or got.recurrences or got.meetings or got.ongoing)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("March 2016 TBC", "to be confirmed"),
        ("April 2016 subject to funding", "Could not read 'subject funding'"),
        ("2017", "only a year was given ('2017')"),
        ("Ongoing asap", "as soon as possible"),
        ("June 2016 for review", "Could not read 'review'"),
    ],
)
def test_partly_read_text_keeps_what_was_read_and_is_flagged(text: str, words: str) -> None:
    got = parse_timescale(text)
    assert not got.unparsed
    assert got.flag is not None
    assert words.lower() in got.flag.lower()
    assert "Please check" in got.flag


def test_year_only_and_day_month_with_reference_year() -> None:
    assert parse_timescale("2017").milestones[0].due_on == D(2017, 12, 29)
    assert parse_timescale("2016/17").milestones[0].due_on == D(2017, 3, 31)
    got = parse_timescale("15 June", reference_year=2027)
    assert got.milestones[0].due_on == D(2027, 6, 15)
    assert got.flag is not None
    assert "the plan year 2027/28 was assumed" in got.flag


WORDS = [
    "January",
    "feb",
    "March",
    "Sept",
    "dec.",
    "May",
    "2016",
    "2017/18",
    "2016-17",
    "1999",
    "31",
    "31st",
    "29",
    "0",
    "99",
    "st",
    "Q1",
    "Q4",
    "annually",
    "each year",
    "every",
    "quarterly",
    "monthly",
    "Ongoing",
    "meetings",
    "for",
    "Maldon District Council",
    "and",
    ",",
    ".",
    "end of",
    "by",
    "TBC",
    "asap",
    "15/06/2016",
    "31/02/2016",
    "2016-02-30",
    "2016-06-15",
    "review",
    "-",
    "/",
]


def check_invariants(text: str, got: Timescale) -> None:
    assert got.original == text
    assert got.flag != PARSER_FAILURE_FLAG
    if got.unparsed:
        assert got.flag is not None
        assert not (got.ongoing or got.milestones or got.recurrences or got.meetings)
    else:
        assert got.ongoing or got.milestones or got.recurrences or got.meetings
    upcoming = got.next_dates(D(2026, 11, 26), count=4)
    assert [d for d, _ in upcoming] == sorted(d for d, _ in upcoming)
    assert len(upcoming) <= 4


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_never_raises(text: str) -> None:
    check_invariants(text, parse_timescale(text))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
    st.sampled_from(["last_working_day", "last_day", "first_day"]),
    st.one_of(st.none(), st.integers(min_value=1990, max_value=2060)),
)
def test_mixtures_never_raise(text: str, deadline_day: str, reference_year: int | None) -> None:
    got = parse_timescale(
        text,
        deadline_day=deadline_day,  # type: ignore[arg-type]
        reference_year=reference_year,
    )
    check_invariants(text, got)
    shifted = got.shift_years(1)
    assert shifted.original == text
    assert len(shifted.milestones) == len(got.milestones)


@pytest.mark.parametrize("text", ["Septembr 2027", "Octobr 2026 for Maldon District Council"])
def test_a_misspelt_month_is_flagged_not_read_as_the_end_of_the_year(text: str) -> None:
    result = parse_timescale(text)
    assert result.milestones == () and result.unparsed
    assert result.flag is not None and "misspelt month" in result.flag
    assert result.original == text
