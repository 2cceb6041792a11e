"""Dates in words are English on every machine, whatever the process's locale."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.time.words import day_month, long_date, month_name, month_year, short_date, weekday


def test_every_day_of_a_year_reads_as_in_english() -> None:
    day = dt.date(2027, 1, 1)
    while day.year == 2027:
        assert weekday(day) == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
        assert long_date(day) == f"{day.day} {month_name(day)} {day.year}"
        assert short_date(day) == f"{weekday(day)} {day.day} {month_name(day, short=True)} 2027"
        day += dt.timedelta(days=1)


def test_the_shapes_the_partnership_reads() -> None:
    day = dt.date(2027, 3, 31)
    assert long_date(day) == "31 March 2027"
    assert month_year(day) == "March 2027"
    assert day_month(day) == "31 Mar"
    assert short_date(day) == "Wed 31 Mar 2027"
    assert short_date(day, with_year=False) == "Wed 31 Mar"
    assert short_date(day, with_weekday=False) == "31 Mar 2027"
    assert short_date(dt.datetime(2027, 9, 1, 9, 30, tzinfo=dt.UTC)) == "Wed 1 Sep 2027"


def test_no_module_names_days_or_months_through_strftime() -> None:
    """strftime's %a, %b and %B follow the host's locale and %-d is glibc's: every date
    the partnership reads goes through bot.time.words."""
    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}:{n}"
        for package in ("bot", "handlers", "scheduler", "store")
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"strftime\([^)]*%(a|A|b|B|-d)", line)
    ]
    assert found == []
