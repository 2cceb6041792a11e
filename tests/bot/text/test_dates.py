"""Dates and times typed in /csp commands, and the note for a weekend or bank holiday."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.text.dates import day_off_note, parse_time


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("14:00", dt.time(14)),
        ("9.30", dt.time(9, 30)),
        ("2pm", dt.time(14)),
        ("12am", dt.time(0)),
        ("14", None),
        ("25:00", None),
        ("13pm", None),
    ],
)
def test_parse_time(token: str, expected: dt.time | None) -> None:
    assert parse_time(token) == expected


def test_weekend_and_bank_holiday_meetings_are_noted() -> None:
    assert day_off_note(dt.date(2026, 12, 27)) == (
        "Note: that is a Sunday (27 December 2026); check that is right."
    )
    assert "Saturday" in (day_off_note(dt.date(2027, 3, 13)) or "")
    note = day_off_note(dt.date(2027, 5, 3)) or ""
    assert "bank holiday" in note and "May Day" in note
    assert day_off_note(dt.date(2027, 3, 15)) is None
