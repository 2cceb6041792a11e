"""Dates and times typed in /csp commands: reading them, and noting weekends and bank holidays."""

from __future__ import annotations

import datetime as dt
import re

import holidays

_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def parse_time(token: str) -> dt.time | None:
    """``14:00``, ``14.30``, ``2pm``, ``10:30am`` -> time; None if it is not a time."""
    found = _TIME.match(token.strip())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    suffix = (found.group(3) or "").lower()
    if not suffix and found.group(2) is None:
        return None  # a bare number is not a time
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def looks_like_time(token: str) -> bool:
    """Whether ``token`` is shaped like a time of day (``25:00`` is; see :func:`parse_time`)."""
    return _TIME.match(token) is not None


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_date(text: str) -> dt.date | None:
    """``2027-03-14``, ``14/03/2027``, ``14 March 2027``, ``14 Mar 2027`` -> date."""
    text = text.strip().lower().replace(",", " ")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if found:
            return dt.date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        found = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\s+(\d{4})", text)
        if found and found.group(2) in _MONTHS:
            return dt.date(int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1)))
    except ValueError:
        return None
    return None


def day_off_note(day: dt.date) -> str | None:
    """A note such as "Note: that is a Sunday." when ``day`` is a weekend day or a bank holiday of
    England and Wales (such a date is allowed, but worth a second look)."""
    name = holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)
    if name:
        return (
            f"Note: {day:%A} {day.day} {day:%B %Y} is a bank holiday ({name}); check that is right."
        )
    if day.weekday() >= 5:
        return f"Note: that is a {day:%A} ({day.day} {day:%B %Y}); check that is right."
    return None


_DATE_SHAPES = (
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}"),
    re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"),
    re.compile(r"\d{1,2}(?:st|nd|rd|th)?\s+[a-z]+\s+\d{4}", re.IGNORECASE),
)


def impossible_date(tokens: list[str]) -> str | None:
    """Text at the end of ``tokens`` shaped like a date that is no real date
    (2026-12-40, 31 February 2027), or None."""
    for width in (3, 1):
        if len(tokens) > width:
            text = " ".join(tokens[-width:])
            if any(shape.fullmatch(text) for shape in _DATE_SHAPES) and parse_date(text) is None:
                if width == 3 and text.split()[1].lower() not in _MONTHS:
                    continue
                return text
    return None
