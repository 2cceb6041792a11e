"""`/csp due` the way people say it: periods, weeks and months, and kind answers otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import UsageError
from bot.text import commands as c
from bot.text.due_words import DueWords, due_horizon
from bot.text.help import USAGE

TUESDAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("due this week", c.Due(period="this week")),
        ("due next week", c.Due(period="next week")),
        ("due next month", c.Due(period="next month")),
        ("due this month", c.Due(period="this month")),
        ("due today", c.Due(period="today")),
        ("due tomorrow", c.Due(period="tomorrow")),
        ("due 2 weeks", c.Due(days=14)),
        ("due 2 wks", c.Due(days=14)),
        ("due a week", c.Due(days=7)),
        ("due a fortnight", c.Due(days=14)),
        ("due in 10 days", c.Due(days=10)),
        ("due within 10 days", c.Due(days=10)),
        ("due next 10 days", c.Due(days=10)),
        ("due 10d", c.Due(days=10)),
        ("due 3 months", c.Due(months=3)),
        ("due in the next 2 weeks", c.Due(days=14)),
        ("what is due", c.Due()),
        ("What's due?", c.Due()),
        ("whats due this week", c.Due(period="this week")),
        ("what is due next month", c.Due(period="next month")),
        ("what is coming up", c.Due()),
    ],
)
def test_what_people_type(typed: str, parsed: c.Due) -> None:
    assert c.parse_command(typed) == parsed


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("due soon", "can't read `soon`"),
        ("due 2 fortnights please", "can't read"),
        ("due 60 weeks", "from 1 to 52 weeks"),
        ("due 13 months", "from 1 to 12 months"),
        ("due 0 days", "from 1 to 366 days"),
        ("due 2 years", "can't read"),
    ],
)
def test_bad_forms_get_the_right_usage(typed: str, said: str) -> None:
    with pytest.raises(UsageError, match=said) as err:
        c.parse_command(typed)
    assert err.value.usage == USAGE["due"]
    assert "`/csp due this week`" in str(err.value) or "`/csp due 2 weeks`" in str(err.value)


def test_horizons_from_a_tuesday() -> None:
    assert due_horizon(DueWords(period="this week"), TUESDAY) == (5, "this week (to Sun 6 Dec)")
    assert due_horizon(DueWords(period="next week"), TUESDAY) == (
        12,
        "by the end of next week (Sun 13 Dec)",
    )
    assert due_horizon(DueWords(period="this month"), TUESDAY) == (30, "this month (to Thu 31 Dec)")
    assert due_horizon(DueWords(period="next month"), TUESDAY) == (
        61,
        "by the end of next month (Sun 31 Jan)",
    )
    assert due_horizon(DueWords(period="today"), TUESDAY) == (0, "today")
    assert due_horizon(DueWords(days=1), TUESDAY) == (1, "in the next day")
    assert due_horizon(DueWords(days=14), TUESDAY) == (14, "in the next 14 days")
    assert due_horizon(DueWords(months=1), TUESDAY)[0] == 31


def test_on_a_sunday_this_week_is_today_and_next_week_the_whole_of_it() -> None:
    sunday = dt.date(2026, 12, 6)
    assert due_horizon(DueWords(period="this week"), sunday)[0] == 0
    assert due_horizon(DueWords(period="next week"), sunday)[0] == 7
