"""Properties of the timescale reader: it never raises, keeps the text, invents no date."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.time.timescale.model import Timescale
from bot.time.timescale.parse import PARSER_FAILURE_FLAG, parse_timescale
from tests.bot.time.timescales import D

# Words of real plans that name no date: actions, bodies, fillers, cadence-free words.
SALAD_WORDS = [
    "review",
    "complete",
    "by",
    "the",
    "partnership",
    "board",
    "strategy",
    "agreed",
    "in",
    "place",
    "launch",
    "from",
    "to",
    "within",
    "of",
    "publication",
    "DHR",
    "and",
    "or",
    "for",
    "Maldon District Council",
    "lead",
    "officer",
    "weeks",
    "months",
    "six",
    "subject",
    "funding",
    "onwards",
    "end",
    "each",
    "except",
    "Ongoing",
    "meeting",
    "held",
    "TBC",
    "-",
    "/",
    "(",
    ")",
    ",",
]
PLAN_WORDS = [
    *SALAD_WORDS,
    "January",
    "Sept",
    "Mar",
    "Apr-28",
    "Q2",
    "Q4",
    "2025",
    "2025/26",
    "2025-2028",
    "2022/25",
    "30/09/2025",
    "30.06.26",
    "31st",
    "annually",
    "quarterly",
    "monthly",
    "six-monthly",
    "bi-monthly",
    "every three years",
    "weekly",
    "Autumn",
    "Winter",
    "commencement of the action plan",
    "Year 2",
    "second week of the following month",
]
numbers = st.integers(min_value=0, max_value=99_999).map(str)
salads = st.lists(st.one_of(st.sampled_from(SALAD_WORDS), numbers), max_size=10).map(" ".join)
plan_texts = st.lists(st.one_of(st.sampled_from(PLAN_WORDS), numbers), min_size=1, max_size=8).map(
    " ".join
)
plan_years = st.one_of(st.none(), st.integers(min_value=2000, max_value=2040))


def all_dates(got: Timescale, *, rules: bool = True) -> list[dt.date]:
    """The one-off dates read, and (with ``rules``) the first occurrences of each rule."""
    days = [m.due_on for m in got.milestones] + [s.month for s in got.meetings]
    for rec in got.recurrences if rules else ():
        days.extend(rec.next_occurrences(rec.dtstart, 2))
    if got.starts_on is not None:
        days.append(got.starts_on)
    return days


def two_digit_years(text: str) -> set[int]:
    """Every year a text could be naming with its digits (2025, 25, 2022/25 -> 22 and 25)."""
    found: set[int] = set()
    for digits in re.findall(r"\d+", text):
        if len(digits) >= 2:
            found.add(int(digits[-2:]))
            found.add(int(digits[:2]) if len(digits) == 4 else int(digits[-2:]))
    return found


def check(text: str, got: Timescale) -> None:
    assert got.original == text
    assert got.flag != PARSER_FAILURE_FLAG, text
    if got.unparsed:
        assert got.flag is not None
        assert not (got.milestones or got.recurrences or got.meetings)


@settings(max_examples=400, deadline=None)
@given(st.text(), plan_years)
def test_any_text_never_raises_and_keeps_its_words(text: str, year: int | None) -> None:
    check(text, parse_timescale(text, reference_year=year))


@settings(max_examples=400, deadline=None)
@given(salads)
def test_word_salad_with_numbers_gives_only_dates_whose_year_it_names(text: str) -> None:
    got = parse_timescale(text)
    check(text, got)
    named = two_digit_years(text)
    for day in all_dates(got):
        assert day.year % 100 in named or (day.year - 1) % 100 in named, (text, day)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([w for w in SALAD_WORDS if w not in ("-", "/")]), max_size=10))
def test_words_without_digits_or_months_give_no_date(words: list[str]) -> None:
    text = " ".join(words)
    got = parse_timescale(text, reference_year=2025)
    check(text, got)
    assert all_dates(got) == [], text


@settings(max_examples=400, deadline=None)
@given(plan_texts, plan_years)
def test_plan_language_never_raises_and_an_unflagged_date_is_named(
    text: str, year: int | None
) -> None:
    got = parse_timescale(text, reference_year=year)
    check(text, got)
    if got.flag is None and year is None:
        named = two_digit_years(text)
        for day in all_dates(got, rules=False):  # a rule repeats: its first year is a start
            # "Q4 2025/26" ends in 2026, a period "2025-2028" in 2028: both years are named
            assert day.year % 100 in named or (day.year - 1) % 100 in named, (text, day)
    shifted = got.shift_years(1)
    assert shifted.original == text


written = st.sampled_from(
    [
        "{d} {month} {y}",
        "{d:02d}/{m:02d}/{y}",
        "{d:02d}.{m:02d}.{yy:02d}",
        "{month} {d}, {y}",
        "Complete by {d} {month} {y}",
        "to be published by {d} {month} {y}",
        "By {d:02d}/{m:02d}/{y}",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2060, 12, 31)), written)
def test_a_written_date_reads_as_exactly_that_date(day: dt.date, form: str) -> None:
    text = form.format(
        d=day.day,
        m=day.month,
        y=day.year,
        yy=day.year % 100,
        month=day.strftime("%B"),
    )
    got = parse_timescale(text)
    assert [m.due_on for m in got.milestones] == [day], text
    assert got.flag is None, (text, got.flag)
