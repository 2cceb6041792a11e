"""The timescale language of real plans: every form with the exact dates it must give."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.time.timescale.model import Timescale
from bot.time.timescale.parse import parse_timescale
from tests.bot.time.timescales import D

PLAN = 2025  # the plan year 2025/26: 1 April 2025 to 31 March 2026
PLAN_START = D(PLAN, 4, 1)


def read(text: str, year: int | None = PLAN) -> Timescale:
    return parse_timescale(text, reference_year=year)


def due(text: str, year: int | None = PLAN) -> list[dt.date]:
    return [m.due_on for m in read(text, year).milestones]


def first(text: str, count: int = 3, after: dt.date = PLAN_START) -> list[dt.date]:
    got = read(text)
    assert len(got.recurrences) >= 1, got
    days = sorted(d for r in got.recurrences for d in r.next_occurrences(after, count))
    return days[:count]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Complete by 14 Feb 2026", D(2026, 2, 14)),
        ("to be published by 1 December 2026", D(2026, 12, 1)),
        ("Protocol agreed and in place by May 2025", D(2025, 5, 30)),  # last working day
        ("September 2026 launch", D(2026, 9, 30)),
        ("Review of the referral pathway completed by September 2026", D(2026, 9, 30)),
        ("March 2027 as per the training plan", D(2027, 3, 31)),
    ],
)
def test_deadlines_with_leading_verbs_and_trailing_words(text: str, expected: dt.date) -> None:
    got = read(text)
    assert [m.due_on for m in got.milestones] == [expected]
    assert got.milestones[0].kind == "deadline"
    assert got.flag is None


@pytest.mark.parametrize(
    "text",
    [
        "June 2026 subject to funding",
        "June 2026 for review",
        "June 2026 (if agreed)",
        "Early June 2026",
        "Mid-June 2026",
        "c. June 2026",
        "Provisionally June 2026",
    ],
)
def test_words_that_change_the_meaning_keep_the_date_and_flag_it(text: str) -> None:
    got = read(text)
    assert due(text) == [D(2026, 6, 30)]
    assert got.flag is not None


@pytest.mark.parametrize(
    ("text", "expected", "label"),
    [
        ("October/November 2025", D(2025, 11, 28), "October/November 2025"),
        ("Jan/Feb 2026", D(2026, 2, 27), "January/February 2026"),
        ("Jan–Mar 2027", D(2027, 3, 31), "January to March 2027"),
        ("June/July 2012", D(2012, 7, 31), "June/July 2012"),
        ("between April and June 2026", D(2026, 6, 30), "April to June 2026"),
        ("November 2025 - January 2026", D(2026, 1, 30), "November 2025 to January 2026"),
    ],
)
def test_a_window_is_one_deadline_at_its_end(text: str, expected: dt.date, label: str) -> None:
    got = read(text)
    assert [(m.due_on, m.label) for m in got.milestones] == [(expected, label)]
    assert got.flag is None


def test_a_window_without_a_year_takes_the_plan_year_and_says_so() -> None:
    got = read("April-May")
    assert due("April-May") == [D(2025, 5, 30)]
    assert got.flag is not None and "2025/26 was assumed" in got.flag
    assert read("Jan-Feb").milestones[0].due_on == D(2026, 2, 27)  # January 2026 is in 2025/26
    unknown = read("April-May", year=None)
    assert unknown.unparsed and unknown.flag is not None and "which year" in unknown.flag


def test_a_window_whose_end_year_is_unclear_asks() -> None:
    got = read("Dec/Jan 2026")
    assert got.milestones == () and got.unparsed
    assert got.flag == "Does 'Dec/Jan 2026' end in January 2026 or January 2027?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-2028", D(2028, 3, 31)),
        ("2022/25", D(2025, 3, 31)),
        ("2025-27", D(2027, 3, 31)),
        ("from 2025 to 2028", D(2028, 3, 31)),
        ("2024/25", D(2025, 3, 31)),
        ("Training programme to run across financial year 2012/13", D(2013, 3, 28)),
    ],
)
def test_a_plan_period_is_due_at_its_end(text: str, expected: dt.date) -> None:
    got = read(text)
    assert due(text) == [expected]  # 31 March 2013 is a Sunday
    assert got.flag is None
    start_year = int(text.split()[-1][:4]) if text[0].isalpha() else int(text[:4])
    assert all(m.due_on.year != start_year or m.due_on.month <= 3 for m in got.milestones)


def test_a_backwards_period_is_asked_about() -> None:
    got = read("2027-25")
    assert got.milestones == () and got.unparsed and got.flag is not None


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("From June 2025 onwards", D(2025, 6, 1)),
        ("Commence January 2026", D(2026, 1, 1)),
        ("from 3 November 2025", D(2025, 11, 3)),
        ("April 2024 onwards", D(2024, 4, 1)),
        ("Starting 01/09/2025", D(2025, 9, 1)),
    ],
)
def test_a_start_is_ongoing_from_then_never_a_deadline(text: str, starts: dt.date) -> None:
    got = read(text)
    assert got.ongoing and got.starts_on == starts
    assert got.milestones == () and got.recurrences == ()
    assert got.flag is None


def test_a_stretch_from_a_start_ends_when_it_is_over() -> None:
    got = read("six-week consultation from 3 November 2025")
    assert [(m.due_on, m.label) for m in got.milestones] == [
        (D(2025, 12, 15), "6 weeks from 3 November 2025")
    ]
    assert got.starts_on == D(2025, 11, 3) and not got.ongoing and got.flag is None
    assert due("12 month pilot starting April 2025") == [D(2026, 4, 30)]
    assert read("6 week campaign from June 2026").unparsed  # which day of June?


def test_relative_to_the_plans_start_is_dated_from_the_plan_year() -> None:
    text = "within six months of commencement of the action plan"
    got = read(text)
    assert due(text) == [D(2025, 9, 30)]
    assert got.flag is None
    assert due("Within 12 months of the start of the plan", year=2016) == [D(2017, 3, 31)]
    assert due("Year 2") == [D(2027, 3, 31)]
    assert due("End of year 1 of the plan") == [D(2026, 3, 31)]
    assert read(text, year=None).unparsed


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (
            "within six months of DHR publication",
            "It is due within 6 months of 'DHR publication': on what date is (or was) DHR "
            "publication?",
        ),
        (
            "To be complete before CDRP Executive meeting February 2010",
            "It is due before 'CDRP Executive meeting February 2010': on what date is that due?",
        ),
        (
            "Following the review of the MARAC protocol",
            "It is due following 'the review of the MARAC protocol': on what date is that due?",
        ),
    ],
)
def test_relative_to_an_unknown_event_asks_when_the_event_is(text: str, question: str) -> None:
    got = read(text)
    assert got.unparsed and not got.has_dates
    assert got.flag == question


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monthly", [D(2025, 4, 30), D(2025, 5, 30), D(2025, 6, 30)]),
        ("quarterly", [D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)]),
        ("every 3 months", [D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)]),
        ("Bi-monthly from May 2025", [D(2025, 5, 30), D(2025, 7, 31), D(2025, 9, 30)]),
        ("six-monthly (March and September)", [D(2025, 9, 30), D(2026, 3, 31), D(2026, 9, 30)]),
        ("Twice yearly, in April and October", [D(2025, 4, 30), D(2025, 10, 31), D(2026, 4, 30)]),
        ("annually in November", [D(2025, 11, 28), D(2026, 11, 30), D(2027, 11, 30)]),
        ("November annually", [D(2025, 11, 28), D(2026, 11, 30), D(2027, 11, 30)]),
        ("31 March annually", [D(2026, 3, 31), D(2027, 3, 31), D(2028, 3, 31)]),
        (
            "every three years from March 2027",
            [D(2027, 3, 31), D(2030, 3, 29), D(2033, 3, 31)],  # 31 March 2030 is a Sunday
        ),
        (
            "by the second week of the following month",
            [D(2025, 5, 14), D(2025, 6, 14), D(2025, 7, 14)],
        ),
        ("by the 10th of each month", [D(2025, 5, 10), D(2025, 6, 10), D(2025, 7, 10)]),
    ],
)
def test_cadences(text: str, expected: list[dt.date]) -> None:
    assert first(text) == expected
    assert read(text).flag is None


@pytest.mark.parametrize(
    ("text", "cadence", "asks"),
    [
        ("annually", "yearly", "in which month is it due?"),
        ("Annual", "yearly", "in which month is it due?"),
        ("six-monthly", "six-monthly", "which months is it due in"),
        ("twice a year", "six-monthly", "which months is it due in"),
        ("bi-monthly", "every two months", "which months is it due in"),
        ("every three years", "every three years", "when is it next due (month and year)?"),
        ("Weekly", "weekly", "which day of the week is it due?"),
        ("fortnightly", "fortnightly", "which day of the week is it due?"),
    ],
)
def test_a_cadence_without_its_month_keeps_its_frequency_and_asks(
    text: str, cadence: str, asks: str
) -> None:
    got = read(text)
    assert got.cadence == cadence
    assert not got.has_dates and got.unparsed
    assert got.flag is not None and asks in got.flag


def test_except_in_a_year_leaves_that_year_out() -> None:
    assert first("Annually in November except in 2027", 4) == [
        D(2025, 11, 28),
        D(2026, 11, 30),
        D(2028, 11, 30),
        D(2029, 11, 30),
    ]
    assert first("31 March annually (except 2027 and 2029)", 4) == [
        D(2026, 3, 31),
        D(2028, 3, 31),
        D(2030, 3, 31),
        D(2031, 3, 31),
    ]
    assert read("November annually except in 2027").flag is None


@pytest.mark.parametrize(
    ("text", "expected", "label"),
    [
        ("Q3 2025/26", D(2025, 12, 31), "Q3 2025/26"),
        ("End of Q2", D(2025, 9, 30), "Q2 2025/26"),
        ("Q4", D(2026, 3, 31), "Q4 2025/26"),
        ("End of Q1 2026/27", D(2026, 6, 30), "Q1 2026/27"),
        ("Autumn 2026", D(2026, 11, 30), "Autumn 2026 (by the end of November)"),
        ("Spring 2026", D(2026, 5, 29), "Spring 2026 (by the end of May)"),
        ("Summer 2025", D(2025, 8, 29), "Summer 2025 (by the end of August)"),
    ],
)
def test_financial_quarters_and_seasons(text: str, expected: dt.date, label: str) -> None:
    got = read(text)
    assert [(m.due_on, m.label) for m in got.milestones] == [(expected, label)]
    assert got.flag is None


@pytest.mark.parametrize("text", ["Winter 2026", "Autumn term 2025", "Spring"])
def test_a_season_that_straddles_or_has_no_year_asks(text: str) -> None:
    got = read(text)
    assert got.unparsed and not got.has_dates and got.flag is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/09/2025", D(2025, 9, 30)),
        ("30.06.26", D(2026, 6, 30)),
        ("By 31/03/2017", D(2017, 3, 31)),
        ("01/02/26", D(2026, 2, 1)),
    ],
)
def test_numeric_dates_are_day_first(text: str, expected: dt.date) -> None:
    assert due(text) == [expected]
    assert read(text).flag is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apr-28", D(2028, 4, 28)),
        ("Mar-27", D(2027, 3, 31)),
        ("Sep ‘19", D(2019, 9, 30)),
        ("Apr ’20", D(2020, 4, 30)),
    ],
)
def test_mmm_yy_is_a_month_and_year(text: str, expected: dt.date) -> None:
    got = read(text)
    assert due(text) == [expected]
    assert got.milestones[0].month_only and got.flag is None


def test_a_note_of_what_happened_is_not_a_due_date() -> None:
    got = read("Ongoing\nMeeting held 15th April 2013", year=2013)
    assert got.ongoing and got.milestones == () and got.flag is not None
    assert "is any date in it still due?" in got.flag


def test_the_original_text_is_kept_by_every_form() -> None:
    for text in ["2025-2028", "From June 2025 onwards", "Weekly", "Q4", "Apr-28", "Autumn 2026"]:
        assert read(text).original == text


def test_a_season_or_a_years_end_inside_a_longer_text() -> None:
    got = read("By Autumn 2023 and ongoing")
    assert got.ongoing and [m.due_on for m in got.milestones] == [D(2023, 11, 30)]
    assert got.flag is None
    end = read("By end of 2022")
    assert [(m.due_on, m.label) for m in end.milestones] == [(D(2022, 12, 30), "end of 2022")]
    assert end.flag is None
    winter = read("by winter 2026 and ongoing")
    assert winter.ongoing and winter.milestones == ()
    assert winter.flag is not None and "which month is it due by?" in winter.flag


def test_a_window_inside_a_longer_text_is_due_at_its_end() -> None:
    text = "On-going development between October 2013 and April 2014"
    got = read(text, year=2013)
    assert [m.due_on for m in got.milestones] == [D(2014, 4, 30)]
    assert got.ongoing


def test_a_quarter_of_a_calendar_year_keeps_the_earlier_reading_and_asks() -> None:
    # "Q1 2017" may be January to March 2017 or the financial quarter April to June 2017:
    # the earlier end (never late) is kept and one question names both readings
    got = read("Q1 2017", year=2016)
    assert [(m.due_on, m.label) for m in got.milestones] == [(D(2017, 3, 31), "Q1 2017")]
    assert got.flag is not None and not got.unparsed
    assert "January to March 2017" in got.flag and "April to June 2017" in got.flag
    assert got.flag.count("?") == 1 and "which is meant?" in got.flag
    assert read("Q1 2017/18").flag is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q4 2024 to 2025", D(2025, 3, 31)),  # the financial year written "2024 to 2025"
        ("Q1 2025 to 2026", D(2025, 6, 30)),
        ("Review by Q3 2025 to 2026", D(2025, 12, 31)),
    ],
)
def test_a_quarter_of_a_financial_year_written_in_words(text: str, expected: dt.date) -> None:
    assert due(text) == [expected]
    assert read(text).flag is None


def test_a_month_without_a_year_falls_in_the_plan_year_and_says_so() -> None:
    # the plan year 2025/26: January to March are in 2026, never before the plan began
    assert due("End January") == [D(2026, 1, 30)]  # 31 January 2026 is a Saturday
    assert due("By end of March") == [D(2026, 3, 31)]
    assert due("End May") == [D(2025, 5, 30)]
    got = read("End January")
    assert got.flag is not None and "the plan year 2025/26 was assumed" in got.flag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q3 24/25", D(2024, 12, 31)),
        ("Q3 23/24", D(2023, 12, 29)),
        ("Q4 23/24 to Q1 24/25", D(2024, 6, 28)),
        ("Q1 24/25 to Q1 25/26", D(2025, 6, 30)),
    ],
)
def test_quarters_of_a_short_financial_year_and_their_windows(text: str, expected: dt.date) -> None:
    assert due(text) == [expected]
    assert read(text).flag is None
