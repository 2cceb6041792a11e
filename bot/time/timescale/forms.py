"""Whole-cell forms of real plans: periods, windows, starts, durations, plan-relative dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from bot.time.timescale.duedates import DeadlineDay, month_due
from bot.time.timescale.lexicon import MONTH_NAMES
from bot.time.timescale.model import Milestone, Timescale
from bot.time.workdays import WorkingCalendar

MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
YEAR = r"(?:19|20)\d{2}"
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "a": 1,
}
NUM = r"(?:\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_DASH = r"\s*(?:-|–|—|/|\bto\b|\buntil\b|\btill\b)\s*"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"


@dataclass(frozen=True)
class Context:
    """What a form needs besides the text: the plan year, the due-day policy, the calendar."""

    original: str
    reference_year: int | None
    policy: DeadlineDay
    calendar: WorkingCalendar


def number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def month_number(word: str) -> int:
    return [m.lower()[:3] for m in MONTH_NAMES].index(word.lower().rstrip(".")[:3]) + 1


def span(n: int, unit: str) -> relativedelta:
    """``n`` days, weeks, months or years."""
    if unit == "day":
        return relativedelta(days=n)
    if unit == "week":
        return relativedelta(weeks=n)
    if unit == "month":
        return relativedelta(months=n)
    return relativedelta(years=n)


def fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def _four(first: int, second: str) -> int:
    """The second year of "2025-27" or "2025-2028" in full."""
    value = int(second)
    if len(second) == 4:
        return value
    return first - first % 100 + value  # "2027-25" runs backwards: the caller asks


def _result(ctx: Context, **fields: object) -> Timescale:
    return Timescale(original=ctx.original, deadline_day=ctx.policy, **fields)


def _month_deadline(ctx: Context, year: int, month: int, label: str) -> Milestone:
    due = month_due(
        year, month, ctx.policy if ctx.policy != "first_day" else "last_working_day", ctx.calendar
    )
    return Milestone(due_on=due, month_only=True, kind="deadline", label=label)


def person(ctx: Context, question: str, **fields: object) -> Timescale:
    """A cell only a person can date: kept verbatim, with a question answerable in one step."""
    return _result(ctx, unparsed=True, flag=question, **fields)


# "2025-2028", "2022/25", "2025-27", "from 2025 to 2028", "2024/25"
_PERIOD = re.compile(
    rf"^(?:from\s+)?(?:the\s+)?(?P<a>{YEAR}){_DASH}(?P<b>(?:19|20)?\d{{2}})$", re.I
)


def period(text: str, ctx: Context) -> Timescale | None:
    """A plan period is due at its end: 31 March of its last financial year. A start year
    never becomes a deadline."""
    match = _PERIOD.match(text)
    if match is None:
        return None
    first = int(match["a"])
    last = _four(first, match["b"])
    if last <= first:
        return person(
            ctx,
            f"'{ctx.original.strip()}' is not a period of years: "
            "when is it due? e.g. 'March 2027'.",
        )
    if last == first + 1:
        label = f"end of {fy_label(first)}"
    else:
        label = f"end of {first}-{last} (financial year {fy_label(last - 1)})"
    return _result(ctx, milestones=(_month_deadline(ctx, last, 3, label),))


# "October/November 2025", "Jan–Mar 2027", "April-May", "June/July 2012"
_WINDOW = re.compile(
    rf"^(?:from\s+|between\s+)?(?:endof\s+)?(?P<m1>{MON})(?:\s+(?P<y1>{YEAR}))?"
    rf"(?:{_DASH}|\s+and\s+)(?:endof\s+)?(?P<m2>{MON})(?:\s+(?P<y2>{YEAR}))?$",
    re.I,
)


def window(text: str, ctx: Context) -> Timescale | None:
    """A window of months is one deadline at the window's end."""
    match = _WINDOW.match(text)
    if match is None or (" and " in text.lower() and not text.lower().startswith("between")):
        return None  # "March and October 2016" is two dates, read by the walk
    m1, m2 = month_number(match["m1"]), month_number(match["m2"])
    y1 = int(match["y1"]) if match["y1"] else None
    y2 = int(match["y2"]) if match["y2"] else None
    joiner = "/" if "/" in text else " to "
    name = f"{MONTH_NAMES[m1 - 1]}{joiner}{MONTH_NAMES[m2 - 1]}"
    if y2 is None and y1 is not None:
        y2 = y1 if m2 >= m1 else y1 + 1
    if y2 is not None:
        if y1 is None and m2 < m1:
            return person(
                ctx,
                f"Does '{ctx.original.strip()}' end in {MONTH_NAMES[m2 - 1]} {y2} "
                f"or {MONTH_NAMES[m2 - 1]} {y2 + 1}?",
            )
        label = f"{name} {y2}" if y1 in (None, y2) else f"{MONTH_NAMES[m1 - 1]} {y1} to "
        if y1 not in (None, y2):
            label += f"{MONTH_NAMES[m2 - 1]} {y2}"
        return _result(ctx, milestones=(_month_deadline(ctx, y2, m2, label),))
    if ctx.reference_year is None:
        return person(ctx, f"No year given for {name}: which year is it due?")
    start = ctx.reference_year
    year = start if m2 >= 4 else start + 1
    return _result(
        ctx,
        milestones=(_month_deadline(ctx, year, m2, f"{name} {year}"),),
        flag=(
            f"No year given for {name}; the plan year {fy_label(start)} was assumed. "
            "Please check the dates read from this timescale."
        ),
    )


_DATE = (
    rf"(?:{_DAY}\s+(?P<mon>{MON})\s*,?\s*(?P<year>{YEAR})"
    rf"|(?P<mon2>{MON})\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<year2>{YEAR})"
    rf"|(?P<mon3>{MON})\s+(?P<year3>{YEAR})"
    r"|(?P<nd>\d{1,2})[/.](?P<nm>\d{1,2})[/.](?P<ny>(?:19|20)?\d{2}))"
)


def read_date(match: re.Match[str]) -> tuple[dt.date, bool] | None:
    """The date a ``_DATE`` match names and whether only its month is known."""
    try:
        if match["mon"]:
            return dt.date(int(match["year"]), month_number(match["mon"]), int(match["day"])), False
        if match["mon2"]:
            day = int(match["day2"])
            return dt.date(int(match["year2"]), month_number(match["mon2"]), day), False
        if match["mon3"]:
            return dt.date(int(match["year3"]), month_number(match["mon3"]), 1), True
        year = int(match["ny"])
        year = year + 2000 if year < 100 else year
        return dt.date(year, int(match["nm"]), int(match["nd"])), False
    except ValueError:
        return None


def date_words(day: dt.date, month_only: bool) -> str:
    name = MONTH_NAMES[day.month - 1]
    return f"{name} {day.year}" if month_only else f"{day.day} {name} {day.year}"


# "From June 2025 onwards", "Commence January 2026", "from 3 November 2025", "April 2024 onwards"
_START = re.compile(
    rf"^(?:ongoing\s+)?(?:from|commenc\w*|start\w*|begin\w*)\s+{_DATE}(?:\s+onwards?)?$", re.I
)
_ONWARDS = re.compile(rf"^(?:ongoing\s+)?{_DATE}\s+onwards?$", re.I)


def start(text: str, ctx: Context) -> Timescale | None:
    """A start is ongoing work from a date, never a deadline."""
    match = _START.match(text) or _ONWARDS.match(text)
    if match is None:
        return None
    read = read_date(match)
    if read is None:
        return person(ctx, f"'{ctx.original.strip()}' is not a real date: when does it start?")
    return _result(ctx, ongoing=True, starts_on=read[0])


# "six-week consultation from 3 November 2025", "12 week pilot starting March 2026"
_DURATION = re.compile(
    rf"^(?:a\s+)?(?P<n>{NUM})[-\s]+{_UNIT}\b(?P<what>[^\d]*?)\s*"
    rf"\b(?:from|starting|commencing|beginning)\s+{_DATE}$",
    re.I,
)


def duration(text: str, ctx: Context) -> Timescale | None:
    """A stretch of time from a start is due when it ends."""
    match = _DURATION.match(text)
    if match is None or re.search(r"\b(?:within|after|every|each|per)\b", match["what"], re.I):
        return None
    read = read_date(match)
    if read is None:
        return None
    begin, month_only = read
    n, unit = number(match["n"]), match["unit"].lower()
    if month_only and unit in ("day", "week"):
        return person(
            ctx,
            f"'{ctx.original.strip()}': on which day of {date_words(begin, True)} does it start?",
        )
    end = begin + span(n, unit)
    label = f"{n} {unit}{'s' if n != 1 else ''} from {date_words(begin, month_only)}"
    due = Milestone(due_on=end, month_only=False, kind="deadline", label=label)
    if month_only:
        end_month = month_due(end.year, end.month, "last_working_day", ctx.calendar)
        due = Milestone(due_on=end_month, month_only=True, kind="deadline", label=label)
    return _result(ctx, milestones=(due,), starts_on=begin)


_PLAN_START = re.compile(
    r"^(?:the\s+)?(?:commencement|start|beginning)\s+of\s+(?:the\s+|this\s+)?"
    r"(?:action\s+plan|delivery\s+plan|plan)$|^(?:the\s+)?(?:action\s+)?plan(?:'s)?\s+start$",
    re.I,
)
_RELATIVE = re.compile(
    rf"^(?:by\s+|due\s+)?within\s+(?P<n>{NUM})\s+{_UNIT}\s+(?P<rel>of|from|after|following)"
    r"\s+(?P<event>.+)$",
    re.I,
)
_PLAN_YEAR_N = re.compile(
    r"^(?:by\s+)?(?:the\s+)?(?:endof\s+)?year\s+(?P<n>[1-5])(?:\s+of\s+the\s+(?:action\s+)?plan)?$",
    re.I,
)


def relative(text: str, ctx: Context) -> Timescale | None:
    """Dates relative to the plan's start are datable from the plan year; dates relative to
    any other event need a person to say when the event is."""
    year_n = _PLAN_YEAR_N.match(text)
    if year_n is not None:
        n = int(year_n["n"])
        if ctx.reference_year is None:
            return person(ctx, f"Which financial year is year {n} of this plan?")
        last = ctx.reference_year + n
        label = f"end of year {n} of the plan ({fy_label(last - 1)})"
        return _result(ctx, milestones=(_month_deadline(ctx, last, 3, label),))
    match = _RELATIVE.match(text)
    if match is None:
        return None
    n, unit = number(match["n"]), match["unit"].lower()
    spelt = f"{n} {unit}{'s' if n != 1 else ''}"
    event = match["event"].strip(" .")
    if _PLAN_START.match(event) is None:
        return person(
            ctx,
            f"It is due within {spelt} of '{event}': on what date is (or was) {event}?",
        )
    if ctx.reference_year is None:
        return person(
            ctx, f"It is due within {spelt} of the plan's start: when did the plan start?"
        )
    begin = dt.date(ctx.reference_year, 4, 1)
    due = begin + span(n, unit) - dt.timedelta(days=1)
    label = f"within {spelt} of the plan's start (1 April {ctx.reference_year})"
    return _result(
        ctx, milestones=(Milestone(due_on=due, month_only=False, kind="deadline", label=label),)
    )


# "after the review", "following DHR publication", "before the CDRP Executive meeting ..."
_EVENT = re.compile(
    r"\b(?P<word>before|prior\s+to|after|following|once|upon|on\s+completion\s+of"
    r"|on\s+receipt\s+of|when)\s+(?!(?:the\s+)?(?:endof\s+)?(?:\d|" + MON + r"\b|q[1-4]\b))"
    r"(?P<event>[^,;.]+)",
    re.I,
)


def event_relative(text: str, ctx: Context) -> Timescale | None:
    """A date tied to an event the plan does not date ("after the review") needs a person."""
    match = _EVENT.search(text)
    if match is None:
        return None
    event = match["event"].strip()
    word = match["word"].lower()
    return person(ctx, f"It is due {word} '{event}': on what date is that due?")


# "Q2", "End of Q2", "Quarter 3": the financial year's quarter in a UK public-sector plan
_BARE_QUARTER = re.compile(
    r"^(?:by\s+)?(?:the\s+)?(?:endof\s+)?(?:q(?P<q>[1-4])|quarter\s+(?P<q2>[1-4]))$", re.I
)


def bare_quarter(text: str, ctx: Context) -> Timescale | None:
    match = _BARE_QUARTER.match(text)
    if match is None or ctx.reference_year is None:
        return None
    q = int(match["q"] or match["q2"])
    start = ctx.reference_year
    month = 3 * q + 3 if q < 4 else 3
    year = start if q < 4 else start + 1
    label = f"Q{q} {fy_label(start)}"
    return _result(ctx, milestones=(_month_deadline(ctx, year, month, label),))


# "Autumn 2026": due at the end of the season (spring March-May, summer June-August,
# autumn September-November); winter straddles two years, so a person says which.
_SEASON = re.compile(
    rf"^(?:by\s+)?(?:the\s+)?(?:endof\s+)?(?:the\s+)?(?P<s>spring|summer|autumn|fall|winter)"
    rf"(?:\s+term)?(?:\s+of)?\s*(?P<y>{YEAR}|{YEAR}/\d{{2}})?$",
    re.I,
)
_SEASON_END = {"spring": 5, "summer": 8, "autumn": 11, "fall": 11}


def season(text: str, ctx: Context) -> Timescale | None:
    match = _SEASON.match(text)
    if match is None:
        return None
    name = match["s"].lower()
    if match["y"] is None or "/" in match["y"] or name == "winter":
        return person(
            ctx,
            f"Which month is '{ctx.original.strip()}' due by? e.g. 'November 2026'.",
        )
    year = int(match["y"])
    label = f"{name.capitalize()} {year} (by the end of {MONTH_NAMES[_SEASON_END[name] - 1]})"
    if " term" in text.lower():
        return person(ctx, f"Which month does the {name} term of {year} end in?")
    return _result(ctx, milestones=(_month_deadline(ctx, year, _SEASON_END[name], label),))


# "Meeting held 15th April 2013": a note of something that happened, not a due date
_NOTE = re.compile(
    r"\b(?:held|took\s+place|happened|occurred|attended|was|were|has\s+been|have\s+been)\b", re.I
)


def past_note(text: str, ctx: Context) -> Timescale | None:
    """A cell that records what already happened gives no due date; a person says if any."""
    if _NOTE.search(text) is None:
        return None
    ongoing = text.lower().startswith(("ongoing", "continuous", "continuing"))
    note = " ".join(ctx.original.split())
    return _result(
        ctx,
        ongoing=ongoing,
        unparsed=not ongoing,
        flag=f"'{note[:80]}' reads as a note of what happened: is any date in it still due?",
    )


FORMS = (period, window, start, duration, relative, bare_quarter, season, past_note, event_relative)


def read_form(text: str, ctx: Context) -> Timescale | None:
    """The first whole-cell form ``text`` is, or None to read it token by token."""
    for form in FORMS:
        found = form(text, ctx)
        if found is not None:
            return found
    return None
