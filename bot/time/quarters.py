"""Financial-year quarters (Q1 is April to June): parsing "2026Q3", bounds and labels."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_MONTHS = ("April", "July", "October", "January")
_QUARTER_TEXT = re.compile(
    r"^(?:(\d{4})(?:/\d{2})?\s*-?\s*q([1-4])|q([1-4])\s*-?\s*(\d{4})(?:/\d{2})?)$"
)

QUARTER_HINT = (
    "Write the plan year and the quarter, like 2026Q3. Quarters follow the financial "
    "year: Q1 is April to June, Q2 July to September, Q3 October to December and Q4 "
    "January to March (so 2026Q4 is January to March 2027)."
)


class QuarterError(ValueError):
    """Text that is not a quarter; the message says how to write one."""


@dataclass(frozen=True, order=True)
class Quarter:
    """Quarter ``number`` (1-4) of the plan year that starts in April of ``year``."""

    year: int
    number: int

    @property
    def start(self) -> dt.date:
        month = 4 + 3 * (self.number - 1)
        return dt.date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the quarter."""
        return self.next().start - dt.timedelta(days=1)

    @property
    def code(self) -> str:
        """``2026Q3``: how the quarter is typed and how its files are named."""
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """``Q3 2026/27``."""
        return f"Q{self.number} {self.year}/{(self.year + 1) % 100:02d}"

    @property
    def months(self) -> str:
        """``October to December 2026``."""
        first = _MONTHS[self.number - 1]
        return f"{first} to {self.end:%B %Y}"

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def quarter_of(day: dt.date) -> Quarter:
    """The quarter ``day`` falls in."""
    year = day.year if day.month >= 4 else day.year - 1
    return Quarter(year, (day.month - 4) % 12 // 3 + 1)


def parse_quarter(text: str) -> Quarter:
    """``2026Q3``, ``2026-Q3``, ``2026/27 Q3`` or ``Q3 2026`` (any case) as a quarter."""
    typed = " ".join(text.split()).lower()
    found = _QUARTER_TEXT.match(typed)
    if found is None:
        shown = text.strip()[:40]
        raise QuarterError(f"“{shown}” is not a quarter. {QUARTER_HINT}")
    year = int(found.group(1) or found.group(4))
    number = int(found.group(2) or found.group(3))
    if not 2000 <= year <= 2100:
        raise QuarterError(f"{year} is not a plan year I can report on. {QUARTER_HINT}")
    return Quarter(year, number)
