"""Dates in English words, the same on every machine.

``strftime``'s day and month names follow the process's locale (a host set to Welsh
or French would post "Mer 31 Maw"), ``%-d`` is glibc's alone, and the call is slow
enough to show when every reply carries dates. Everything the partnership reads takes
its dates from here.
"""

from __future__ import annotations

import datetime as dt

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = (  # the months' English names, January first
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def weekday(day: dt.date) -> str:
    """``Wed``."""
    return _WEEKDAYS[day.weekday()]


def month_name(day: dt.date, *, short: bool = False) -> str:
    """``March``, or ``Mar`` when ``short``."""
    name = MONTHS[day.month - 1]
    return name[:3] if short else name


def month_year(day: dt.date) -> str:
    """``March 2027``."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def long_date(day: dt.date) -> str:
    """``31 March 2027``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def day_month(day: dt.date) -> str:
    """``31 Mar``."""
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def short_date(day: dt.date, *, with_weekday: bool = True, with_year: bool = True) -> str:
    """``Wed 31 Mar 2027``; without the weekday ``31 Mar 2027``, without the year
    ``Wed 31 Mar``."""
    text = day_month(day)
    if with_weekday:
        text = f"{_WEEKDAYS[day.weekday()]} {text}"
    return f"{text} {day.year}" if with_year else text
