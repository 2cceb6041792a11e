"""Cadences of real plans: six-monthly, bi-monthly, every N years, weekly, monthly by a day, and
"except in 2027". A cadence without its month keeps its frequency and asks for the month."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from bot.time.timescale.forms import MON, YEAR, Context, month_number, person
from bot.time.timescale.lexicon import MONTH_NAMES
from bot.time.timescale.model import Recurrence, Timescale

_MONLIST = rf"{MON}(?:\s*(?:,|and|&|/)\s*{MON})*"
_KIND = r"(?P<cad>sixmonthly|bimonthly|threeyearly|twoyearly|weekly|fortnightly)"
_CADENCE = re.compile(
    rf"^(?:(?P<pre>{_MONLIST})\s+)?{_KIND}"
    rf"(?:\s*,?\s*\(?\s*(?:in|on|during|each)?\s*(?P<months>{_MONLIST})\s*\)?)?"
    rf"(?:\s+(?:from|starting|commencing|beginning)\s+(?P<smon>{MON})\s+(?P<syear>{YEAR}))?$",
    re.I,
)
_INTERVALS = {"sixmonthly": 6, "bimonthly": 2}
_YEARS = {"threeyearly": 3, "twoyearly": 2}
_WORDS = {
    "sixmonthly": "six-monthly",
    "bimonthly": "every two months",
    "threeyearly": "every three years",
    "twoyearly": "every two years",
    "weekly": "weekly",
    "fortnightly": "fortnightly",
}
# "by the second week of the following month", "by the 10th of each month"
_MONTH_DAY = re.compile(
    r"^(?:by\s+|on\s+)?(?:the\s+)?(?:(?P<week>first|second|third)\s+week"
    r"|(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:\s+day)?)"
    r"\s+of\s+(?:(?:the\s+following|each|every|the\s+next|each\s+following)\s+month|monthly)$",
    re.I,
)
_WEEK_END = {"first": 7, "second": 14, "third": 21}
_EXCEPT = re.compile(
    rf"\s*,?\s*\(?\bexcept(?:\s+in)?\s+(?P<years>{YEAR}(?:\s*(?:,|and|&)\s*{YEAR})*)\)?", re.I
)


def split_except(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` without its "except in 2027" and the years it excludes."""
    match = _EXCEPT.search(text)
    if match is None:
        return text, ()
    years = tuple(sorted({int(y) for y in re.findall(YEAR, match["years"])}))
    return (text[: match.start()] + text[match.end() :]).strip(" ,"), years


def _months(spec: str | None) -> list[int]:
    if not spec:
        return []
    return sorted({month_number(m) for m in re.findall(MON, spec, re.I)})


def _monthly_rule(
    months: int, first: dt.date, label: str, ctx: Context, roll: bool = True
) -> Recurrence:
    by_day = 1 if ctx.policy == "first_day" else -1
    return Recurrence(
        rrule=f"FREQ=MONTHLY;INTERVAL={months};BYMONTHDAY={by_day}",
        dtstart=first.replace(day=1),
        label=label,
        month_only=True,
        roll="previous_working_day" if roll and ctx.policy == "last_working_day" else "none",
    )


def read_cadence(text: str, ctx: Context) -> Timescale | None:
    """The cadence ``text`` names, or None when it names none of these."""
    month_day = _MONTH_DAY.match(text)
    if month_day is not None:
        day = int(month_day["day"]) if month_day["day"] else _WEEK_END[month_day["week"].lower()]
        if not 1 <= day <= 28:
            return person(ctx, f"'{ctx.original.strip()}': which day of each month is it due?")
        first = dt.date(ctx.reference_year or 1970, 5 if ctx.reference_year else 1, day)
        rule = Recurrence(
            rrule=f"FREQ=MONTHLY;BYMONTHDAY={day}",
            dtstart=first,
            label=f"monthly, by the {day}{_suffix(day)}",
        )
        return Timescale(original=ctx.original, recurrences=(rule,), deadline_day=ctx.policy)
    match = _CADENCE.match(text)
    if match is None:
        return None
    kind = match["cad"].lower()
    words = _WORDS[kind]
    months = _months(match["pre"]) or _months(match["months"])
    if match["smon"]:
        months = months or [month_number(match["smon"])]
    start_year = int(match["syear"]) if match["syear"] else None
    if kind in ("weekly", "fortnightly"):
        return person(
            ctx,
            f"Could not read '{words}' into dates: which day of the week is it due? "
            "Please set a date, e.g. 'every Monday' or 'monthly'.",
            cadence=words,
        )
    if kind in _YEARS:
        if not months or start_year is None or len(months) > 1:
            return person(
                ctx, f"It says '{words}': when is it next due (month and year)?", cadence=words
            )
        month = months[0]
        rule = Recurrence(
            rrule=f"FREQ=YEARLY;INTERVAL={_YEARS[kind]};BYMONTH={month};BYMONTHDAY=-1",
            dtstart=dt.date(start_year, month, 1),
            label=f"{words} in {MONTH_NAMES[month - 1]}, from {start_year}",
            month_only=True,
            roll="previous_working_day" if ctx.policy == "last_working_day" else "none",
        )
        return Timescale(original=ctx.original, recurrences=(rule,), deadline_day=ctx.policy)
    interval = _INTERVALS[kind]
    if not months:
        example = "September and March" if interval == 6 else "April, June, August ..."
        return person(
            ctx,
            f"It says '{words}' but not in which months: which months is it due in "
            f"(e.g. {example})?",
            cadence=words,
        )
    if any((b - a) % interval for a, b in itertools.pairwise(months)):
        names = ", ".join(MONTH_NAMES[m - 1] for m in months)
        return person(ctx, f"It says '{words}' but names {names}: which months is it due in?")
    if start_year is None:
        start_year = ctx.reference_year or 1970
        first_month = min(months, key=lambda m: (m < 4, m)) if ctx.reference_year else months[0]
        if ctx.reference_year and first_month < 4:
            start_year += 1
    else:
        first_month = months[0]
    names = " and ".join(MONTH_NAMES[m - 1] for m in sorted(set(months)))
    label = f"{words} ({names})"
    if match["syear"]:
        label = f"{words} from {MONTH_NAMES[first_month - 1]} {start_year}"
    rule = _monthly_rule(interval, dt.date(start_year, first_month, 1), label, ctx)
    return Timescale(original=ctx.original, recurrences=(rule,), deadline_day=ctx.policy)


def _suffix(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def except_years(rec: Recurrence, years: tuple[int, ...]) -> tuple[Recurrence, ...]:
    """A yearly rule split around the years it skips ("annually, except in 2027")."""
    if not years or not rec.rrule.startswith("FREQ=YEARLY") or "INTERVAL" in rec.rrule:
        return (rec,)
    out: list[Recurrence] = []
    begin = rec.dtstart
    label = f"{rec.label}, except {', '.join(str(y) for y in years)}"
    for year in years:
        if year < begin.year:
            continue
        if year > begin.year:
            out.append(
                rec.model_copy(
                    update={
                        "rrule": f"{rec.rrule};COUNT={year - begin.year}",
                        "label": label,
                        "dtstart": begin,
                    }
                )
            )
        begin = _same_day(begin, year + 1)
    out.append(rec.model_copy(update={"dtstart": begin, "label": label}))
    return tuple(out)


def _same_day(day: dt.date, year: int) -> dt.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)
