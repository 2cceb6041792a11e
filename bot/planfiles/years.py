"""Years written in plan files: the plan year a file is about, and moving years on.

A plan year is a financial year, April to March, named by the year it starts in
(2014 is 2014/15, and March 2015 belongs to it). :func:`choose_plan_year` is the one
rule an import follows to pick the year it writes into, and it says why.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.errors import UserError
from bot.plan.years import plan_year_label

_YEAR = re.compile(r"(?<!\d)(19|20)(\d\d)(?!\d)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "2022-2025", "2025 to 2028", "2014/2015"
_LONG_PERIOD = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*(?:-|–|—|/|to|until)\s*((?:19|20)\d\d)(?!\d)", re.IGNORECASE
)
# "2014/15", "2025-26", "2022/25"
_SHORT_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[/\-–]\s*(\d\d)(?![\d/.])")
# "March 2015", "end of June, 2027"
_MONTH_YEAR = re.compile(
    rf"\b({_MONTH_WORD})\.?,?\s+(?:of\s+)?((?:19|20)\d\d)(?!\d)", re.IGNORECASE
)
# "30/09/2025", "30.06.26"
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d\d)(?![\d/.])")


def financial_year(year: int, month: int) -> int:
    """The plan year (April to March) that ``month`` of ``year`` falls in."""
    return year if month >= 4 else year - 1


@dataclass(frozen=True)
class YearMentions:
    """The plan years a piece of text names: one per dated mention, and whether it names
    a period of several years ("2025-2028")."""

    years: tuple[int, ...]
    period: bool


def year_mentions(text: str) -> YearMentions:
    """Every plan year ``text`` names, read as a UK public-sector plan means it: a month
    and year is the financial year it falls in, "2014/15" is 2014, "2025-2028" is the
    years up to March 2028, and a bare year is the plan year starting in it."""
    found: list[int] = []
    period = False
    rest = text
    for match in _LONG_PERIOD.finditer(text):
        first, last = int(match.group(1)), int(match.group(2))
        if last > first:
            found.extend(range(first, last))
            period = period or last - first > 1
    rest = _LONG_PERIOD.sub(" ", rest)
    for match in _SHORT_PERIOD.finditer(rest):
        first = int(match.group(1))
        last = first - first % 100 + int(match.group(2))
        if last > first:
            found.extend(range(first, last))
            period = period or last - first > 1
    rest = _SHORT_PERIOD.sub(" ", rest)
    for match in _MONTH_YEAR.finditer(rest):
        found.append(financial_year(int(match.group(2)), _MONTHS[match.group(1).casefold()]))
    rest = _MONTH_YEAR.sub(" ", rest)
    for match in _NUMERIC_DATE.finditer(rest):
        month = int(match.group(2))
        year = int(match.group(3))
        year = year + 2000 if year < 100 else year
        if 1 <= month <= 12 and 1 <= int(match.group(1)) <= 31:
            found.append(financial_year(year, month))
    rest = _NUMERIC_DATE.sub(" ", rest)
    found.extend(int(m.group(1) + m.group(2)) for m in _YEAR.finditer(rest))
    return YearMentions(tuple(found), period)


@dataclass(frozen=True)
class YearChoice:
    """The plan year an import writes into, and the sentence saying why."""

    year: int
    reason: str


def _label_span(first: int, last: int) -> str:
    if first == last:
        return plan_year_label(first)
    return f"{plan_year_label(first)} to {plan_year_label(last)}"


def _not_begun(year: int) -> str:
    return f"{plan_year_label(year)} has not begun (it starts on 1 April {year})"


def choose_plan_year(
    *,
    filename: str,
    asked: int | None,
    exported: int | None,
    title: str | None,
    timescales: Sequence[str],
    today_year: int,
    current: int | None,
    year_exists: Callable[[int], bool],
) -> YearChoice:
    """The plan year a file is imported into, and why.

    ``--year`` (``asked``) wins, then the year our own JSON export names. Otherwise the
    year comes from the file: the years its title names, else the years its timescales
    name (a month is read in its financial year: March 2015 is 2014/15). A plan whose
    period contains today's plan year (``today_year``) goes into today's year; a past
    plan into the year most of its dates fall in; a year that has not begun is never
    started without ``--year``. When the partnership already has a plan (``current``),
    dates in a file do not start another year by themselves.
    """
    if asked is not None:
        why = "as asked with --year"
        if asked > today_year:
            why += f" ({_not_begun(asked)})"
        return YearChoice(asked, why)
    if exported is not None:
        return YearChoice(exported, "the plan year named in the exported file")
    choice = _from_file(filename, title, timescales, today_year, year_exists)
    if choice is None:
        if current is not None:
            return YearChoice(current, "the file names no year, so the current plan year")
        return YearChoice(today_year, "the file names no year, so the plan year of today")
    if current is not None and choice.year > current and not year_exists(choice.year):
        return YearChoice(
            current,
            f"{choice.reason}, but the partnership's plan is {plan_year_label(current)} and "
            f"dates in a file do not start a plan year by themselves (to start "
            f"{plan_year_label(choice.year)}: `csp-bot plan rollover --year {choice.year}`)",
        )
    return choice


def _from_file(
    filename: str,
    title: str | None,
    timescales: Sequence[str],
    today_year: int,
    year_exists: Callable[[int], bool],
) -> YearChoice | None:
    named = year_mentions(title or "")
    cells = [year_mentions(text) for text in timescales]
    dated = Counter(year for cell in cells for year in cell.years)
    if named.years:
        first, last = min(named.years), max(named.years)
        where = f'its title names {_label_span(first, last)} ("{title}")'
        if first > today_year and year_exists(first):
            return YearChoice(first, f"{where}, a plan year already started here")
        if first > today_year:
            raise UserError(
                f"{filename} is the {_label_span(first, last)} plan ({where[4:]}), and "
                f"{_not_begun(first)}. Nothing was imported. To start it now, import it "
                f"again with `--year {first}`; the live plan stays readable."
            )
        if first <= today_year <= last:
            return YearChoice(today_year, f"{where}, which contains today")
        inside = Counter({year: n for year, n in dated.items() if first <= year <= last})
        year = _most_named(inside) if inside else first
        return YearChoice(year, where)
    if not dated:
        return None
    first, last = min(dated), max(dated)
    span = _label_span(first, last)
    several = any(cell.period for cell in cells) or last - first >= 2
    if several and first <= today_year <= last:
        return YearChoice(today_year, f"its dates run from {span}, which contains today")
    year = _most_named(dated)
    why = f"most of its dates fall in {plan_year_label(year)}"
    if first != last:
        why += f" (they run from {span})"
    if year > today_year:
        return YearChoice(
            today_year,
            f"{why}, and {_not_begun(year)}: so the plan year of today (to start "
            f"{plan_year_label(year)} now, import with `--year {year}`)",
        )
    return YearChoice(year, why)


def _most_named(counts: Counter[int]) -> int:
    """The year named most often; of equals, the earliest."""
    return min(counts, key=lambda year: (-counts[year], year))


def shift_text_years(text: str, years: int) -> str:
    """``text`` with every year in it moved on by ``years``."""
    return _YEAR.sub(lambda m: str(int(m.group(1) + m.group(2)) + years), text)
