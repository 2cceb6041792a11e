"""Date cells of real plans as words: Excel date cells and "Mmm-yy" text ("Mar-27")."""

from __future__ import annotations

import datetime as dt
import re

from bot.time.words import MONTHS

_BY_PREFIX = {name[:3].casefold(): name for name in MONTHS}
_MONTH_WORD = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
_MONTH_WORD += r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
# "Mar-27", "Sept-2026": a month and a two- or four-digit year, as Excel shows a date
# formatted mmm-yy (the month; never the 27th of March).
_MONTH_DASH_YEAR = re.compile(
    rf"(?<![\w\-/])({_MONTH_WORD})-(\d\d|(?:19|20)\d\d)(?![\w\-/])", re.IGNORECASE
)
# Excel number formats: day codes ("d", "dd", "ddd") outside quoted text and brackets.
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


def spell_month_years(text: str) -> str:
    """``text`` with each "Mmm-yy" written out: "Mar-27" -> "March 2027"."""

    def spell(match: re.Match[str]) -> str:
        year = int(match.group(2))
        year = year + 2000 if year < 100 else year
        return f"{_BY_PREFIX[match.group(1)[:3].casefold()]} {year}"

    return _MONTH_DASH_YEAR.sub(spell, text)


def shows_day(number_format: str) -> bool:
    """Whether an Excel date format shows the day of the month ("dd/mm/yyyy" does,
    "mmm-yy" and "mmmm yyyy" do not)."""
    bare = _QUOTED.sub("", number_format).casefold()
    return "d" in bare


def date_cell_text(value: dt.date | dt.datetime, number_format: str = "") -> str:
    """An Excel date cell as the words a timescale uses: "30 June 2027", or "March 2027"
    for a cell formatted to show only the month and year ("Mar-27")."""
    if number_format and not shows_day(number_format):
        return f"{MONTHS[value.month - 1]} {value.year}"
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        text += f" {value:%H:%M}"
    return text
