"""Read the plan's free-text "Timescale" column into dates and recurrence rules.

``parse_timescale`` never raises and never loses the text it was given: what it
reads becomes milestones (one-off dates), recurrences (RFC 5545 RRULEs read by
dateutil), meeting months (the month is known, the day is not) and an
``ongoing`` marker; what it cannot read sets ``flag`` with a sentence saying
what a person should check. ``unparsed`` means nothing dated was read at all.

Conventions:

* Dates are written the UK way: ``15/06/2016`` is 15 June.
* A month on its own ("April 2016") is due on the last working day of that
  month by default (``deadline_day`` chooses otherwise).
* "Q1 2017" is the calendar quarter (due end of March 2017); "Q1 2017/18" is
  the first quarter of the financial year (due end of June 2017).
* Dates in an "Ongoing ..." text are milestones of ongoing work; other dates
  are deadlines; months in a "... meetings ..." text are meeting months.

The parser works in two passes: the text is split into tokens (dates, months,
years, quarters, words, punctuation), then one walk over the tokens collects
months until a year resolves them, reads "for <Body>" phrases, and notes
frequency words; anything left over is reported in the flag.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar, cast

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule as _RRule
from dateutil.rrule import rrulestr
from pydantic import BaseModel, field_validator

from bot.time.workdays import WorkingCalendar, default_calendar

DeadlineDay = Literal["last_working_day", "last_day", "first_day"]
MilestoneKind = Literal["deadline", "milestone"]
Roll = Literal["none", "previous_working_day"]

DEFAULT_REFERENCE_YEAR = 1970
# The flag set when reading failed unexpectedly (the row is still kept, verbatim).
PARSER_FAILURE_FLAG = "This timescale could not be read. Please set a date, e.g. 'April 2027'."
# Rolling an occurrence back to a working day never moves it further than this.
_ROLL_MARGIN = dt.timedelta(days=14)

MONTH_NAMES = tuple(_calendar.month_name[m] for m in range(1, 13))


# --------------------------------------------------------------------------- models


class Milestone(BaseModel, frozen=True):
    """A one-off dated thing: a deadline, or a milestone of ongoing work."""

    due_on: dt.date
    body: str | None = None
    month_only: bool = False
    kind: MilestoneKind = "deadline"
    label: str


class Recurrence(BaseModel, frozen=True):
    """A repeating date, as an RFC 5545 RRULE (without DTSTART) read by dateutil.

    ``roll="previous_working_day"`` moves each occurrence back to a working day
    (used for month-only rules such as "every March", due on the month's last
    working day).
    """

    rrule: str
    dtstart: dt.date
    body: str | None = None
    label: str
    month_only: bool = False
    roll: Roll = "none"

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str) -> str:
        value = value.strip()
        if value.upper().startswith(("DTSTART", "RRULE:")) or "\n" in value:
            raise ValueError("give the RRULE line only, e.g. FREQ=YEARLY;BYMONTH=3")
        try:
            rrulestr(value, dtstart=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a valid RRULE: {value!r}") from exc
        return value

    def _rule(self) -> _RRule:
        start = dt.datetime.combine(self.dtstart, dt.time(), tzinfo=dt.UTC)
        rule = rrulestr(self.rrule, dtstart=start)
        assert isinstance(rule, _RRule)
        return rule

    def _iter_from(self, after: dt.date, calendar: WorkingCalendar | None) -> Iterator[dt.date]:
        """Occurrence dates on or after ``after``, in order (rolled if asked)."""
        cal = calendar or default_calendar()
        margin = _ROLL_MARGIN if self.roll != "none" else dt.timedelta(0)
        start = max(after - margin, self.dtstart)
        previous: dt.date | None = None
        begin = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        for occurrence in self._rule().xafter(begin, inc=True):
            day = occurrence.date()
            if self.roll == "previous_working_day":
                day = cal.on_or_before(day)
            if day < after or day == previous:
                continue
            previous = day
            yield day

    def occurrences(
        self, after: dt.date, before: dt.date, *, calendar: WorkingCalendar | None = None
    ) -> list[dt.date]:
        """Occurrence dates in the half-open window ``after <= date < before``."""
        out: list[dt.date] = []
        if before <= after:
            return out
        for day in self._iter_from(after, calendar):
            if day >= before:
                break
            out.append(day)
        return out

    def next_occurrences(
        self, after: dt.date, count: int, *, calendar: WorkingCalendar | None = None
    ) -> list[dt.date]:
        """The first ``count`` occurrence dates on or after ``after``."""
        out: list[dt.date] = []
        if count <= 0:
            return out
        for day in self._iter_from(after, calendar):
            out.append(day)
            if len(out) >= count:
                break
        return out


class MeetingSlot(BaseModel, frozen=True):
    """A meeting known only by its month ("date to be set")."""

    body: str
    month: dt.date  # the first day of the month

    @field_validator("month")
    @classmethod
    def _first_of_month(cls, value: dt.date) -> dt.date:
        return value.replace(day=1)

    @property
    def label(self) -> str:
        name = f"{self.body} meeting" if self.body else "Meeting"
        return f"{name}, {MONTH_NAMES[self.month.month - 1]} {self.month.year} (date to be set)"


class Timescale(BaseModel, frozen=True):
    """What a Timescale cell says, read as far as it can be."""

    original: str
    ongoing: bool = False
    milestones: tuple[Milestone, ...] = ()
    recurrences: tuple[Recurrence, ...] = ()
    meetings: tuple[MeetingSlot, ...] = ()
    unparsed: bool = False
    flag: str | None = None  # why a person must check or date it
    deadline_day: DeadlineDay = "last_working_day"

    @property
    def has_dates(self) -> bool:
        return bool(self.milestones or self.recurrences or self.meetings)

    def next_dates(
        self, after: dt.date, count: int = 3, *, calendar: WorkingCalendar | None = None
    ) -> list[tuple[dt.date, str]]:
        """The next ``count`` dated things on or after ``after``, with labels, in order.

        Milestones and recurrence occurrences count from ``after`` (inclusive);
        a meeting month counts until the month is over and is dated by its first day.
        """
        found: list[tuple[dt.date, str]] = []
        for m in self.milestones:
            if m.due_on >= after:
                found.append((m.due_on, _with_body(m.label, m.body)))
        for r in self.recurrences:
            label = _with_body(r.label, r.body)
            found.extend((d, label) for d in r.next_occurrences(after, count, calendar=calendar))
        for slot in self.meetings:
            if _month_end(slot.month) >= after:
                found.append((slot.month, slot.label))
        found.sort(key=lambda item: item[0])
        return found[: max(count, 0)]

    def shift_years(self, years: int, *, calendar: WorkingCalendar | None = None) -> Timescale:
        """The same timescale ``years`` later, for rolling a plan over.

        One-off dates move by whole years (29 February becomes 28 February);
        month-only dates are worked out again for the new month (the last
        working day of April 2017 is not 29 April); recurrences move their
        start; meeting months move. The original text is kept as it was.
        """
        cal = calendar or default_calendar()
        shift = relativedelta(years=years)
        milestones = tuple(self._shift_milestone(m, shift, years, cal) for m in self.milestones)
        recurrences = tuple(
            r.model_copy(
                update={"dtstart": r.dtstart + shift, "label": _shift_label(r.label, years)}
            )
            for r in self.recurrences
        )
        meetings = tuple(s.model_copy(update={"month": s.month + shift}) for s in self.meetings)
        return self.model_copy(
            update={"milestones": milestones, "recurrences": recurrences, "meetings": meetings}
        )

    def _shift_milestone(
        self, m: Milestone, shift: relativedelta, years: int, cal: WorkingCalendar
    ) -> Milestone:
        if m.month_only:
            year = (m.due_on + shift).year
            due = _month_due(year, m.due_on.month, _policy_for(m.label, self.deadline_day), cal)
            return m.model_copy(update={"due_on": due, "label": _shift_label(m.label, years)})
        due = m.due_on + shift
        old = m.due_on
        if m.label == _date_label(old.day, old.month, old.year):
            label = _date_label(due.day, due.month, due.year)  # 29 February -> 28 February
        else:
            label = _shift_label(m.label, years)
        return m.model_copy(update={"due_on": due, "label": label})


def _with_body(label: str, body: str | None) -> str:
    return f"{body}: {label}" if body else label


def _month_end(first: dt.date) -> dt.date:
    return first.replace(day=_calendar.monthrange(first.year, first.month)[1])


def _policy_for(label: str, policy: DeadlineDay) -> DeadlineDay:
    """ "end of <Month>" means the end even when deadlines default to the first day."""
    if policy == "first_day" and label.startswith("end of "):
        return "last_working_day"
    return policy


def _month_due(year: int, month: int, policy: DeadlineDay, cal: WorkingCalendar) -> dt.date:
    if policy == "first_day":
        return dt.date(year, month, 1)
    if policy == "last_day":
        return dt.date(year, month, _calendar.monthrange(year, month)[1])
    return cal.last_working_day_of_month(year, month)


_LABEL_YEAR = re.compile(r"\b((?:19|20)\d{2})(?:/(\d{2}))?\b")


def _shift_label(label: str, years: int) -> str:
    def repl(match: re.Match[str]) -> str:
        start = int(match.group(1)) + years
        if match.group(2) is None:
            return str(start)
        return f"{start}/{(start + 1) % 100:02d}"

    return _LABEL_YEAR.sub(repl, label)


# --------------------------------------------------------------------------- tokens

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

_TOKEN = re.compile(
    r"""
    (?P<iso>\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b)
  | (?P<numeric>\b\d{1,2}[/.-]\d{1,2}[/.-](?:(?:19|20)\d{2}|\d{2})\b)
  | (?P<fy>\b(?:19|20)\d{2}\s?[/-]\s?(?:\d{2}|(?:19|20)\d{2})\b)
  | (?P<year>\b(?:19|20)\d{2}\b)
  | (?P<quarter>\bq[1-4]\b)
  | (?P<day>\b\d{1,2}(?:st|nd|rd|th)?\b)
  | (?P<month>\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?
        |aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?)
  | (?P<number>\d+(?:st|nd|rd|th)?)
  | (?P<word>[^\W\d_][\w'’&-]*)
  | (?P<other>\S)
    """,
    re.IGNORECASE | re.VERBOSE,
)

TokenKind = Literal[
    "iso", "numeric", "fy", "year", "quarter", "day", "month", "number", "word", "other"
]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str

    @property
    def low(self) -> str:
        return self.text.lower()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(cast(TokenKind, kind), match.group()))
    return tokens


# Phrases rewritten to one keyword before tokenising (the original text is kept).
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), keyword)
    for pattern, keyword in (
        (r"(\d{1,2})\s+(st|nd|rd|th)\b", r"\1\2"),
        (r"\b(?:each|every|per|a)\s+(?:year|annum)\b|\bper\s+annum\b", " annually "),
        (r"\b(?:each|every|per|a)\s+quarter\b", " quarterly "),
        (r"\b(?:each|every|per|a)\s+month\b", " monthly "),
        (r"\bas\s+soon\s+as\s+(?:possible|practicable)\b", " asap "),
        (r"\bto\s+be\s+(?:confirmed|agreed|decided|determined|arranged|set)\b", " tbc "),
        (r"\b(?:by\s+)?(?:the\s+)?end\s+of\b", " endof "),
    )
)

_ONGOING = frozenset({"ongoing", "continuous", "continuing"})
_YEARLY = frozenset({"annually", "annual", "yearly"})
_QUARTERLY = frozenset({"quarterly"})
_MONTHLY = frozenset({"monthly"})
_TBC = frozenset({"tbc", "tba", "tbd"})
_ASAP = frozenset({"asap", "immediately", "immediate", "urgent", "urgently"})
_MEETING = frozenset({"meeting", "meetings"})
_KEYWORDS = (
    _ONGOING | _YEARLY | _QUARTERLY | _MONTHLY | _TBC | _ASAP | _MEETING | {"every", "endof"}
)
# Words that carry no date and need no checking ("meetings are programmed for ...").
_FILLER_WORDS = (
    "and or for the by in on at of from to until till are is be will programmed scheduled"
    " planned held due then thereafter onwards onward also starting commencing with"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_IGNORED_MARKS = frozenset(",;:.()[]/&-–—!?'\"‘’“”*…")
# Small words allowed inside a body's name ("Council of the Isles", "Fire and Rescue").
_BODY_JOINERS = {"of", "the", "and", "&", "for", "on", "in"}


def _is_keyword(low: str) -> bool:
    return low in _KEYWORDS


def _looks_like_name(token: _Token) -> bool:
    return token.kind == "word" and token.text[:1].isupper() and not _is_keyword(token.low)


# --------------------------------------------------------------------------- walk


@dataclass
class _Pending:
    """A month (maybe with a day, or a quarter) still waiting for its year."""

    month: int
    day: int | None = None
    quarter: int | None = None
    end_of: bool = False


@dataclass
class _Item:
    """A resolved date: a year, a month, maybe a day."""

    year: int
    month: int
    day: int | None
    label: str
    body: str | None = None
    year_only: bool = False  # a bare year ("2017"): only the year was said


def _looks_like_month(word: str) -> bool:
    cleaned = word.lower().strip(".,;:")
    names = [name.lower() for name in MONTH_NAMES]
    return len(cleaned) >= 3 and bool(difflib.get_close_matches(cleaned, names, n=1, cutoff=0.7))


@dataclass
class _Walk:
    ongoing: bool = False
    yearly: bool = False
    quarterly: bool = False
    monthly: bool = False
    tbc: bool = False
    asap: bool = False
    end_of_next: bool = False  # "end of" was read; the next month is "end of <Month>"
    pending: list[_Pending] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    unbodied_from: int = 0  # items from this index have no "for <Body>" yet
    current_body: str | None = None
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def _month_of(token: _Token) -> int:
    return _MONTHS[token.low.rstrip(".")[:3]]


def _day_of(token: _Token) -> int:
    return int(re.sub(r"\D", "", token.text))


def _date_label(day: int | None, month: int, year: int, *, end_of: bool = False) -> str:
    name = MONTH_NAMES[month - 1]
    if day is not None:
        return f"{day} {name} {year}"
    return f"end of {name} {year}" if end_of else f"{name} {year}"


def _add_explicit(walk: _Walk, year: int, month: int, day: int, raw: str) -> None:
    try:
        dt.date(year, month, day)
    except ValueError:
        walk.problems.append(f"'{raw}' is not a real date")
        return
    walk.items.append(_Item(year, month, day, _date_label(day, month, year), walk.current_body))


def _resolve_pending(walk: _Walk, year: int, fy_start: int | None, raw: str) -> None:
    """Give the waiting months their year (``fy_start`` for a financial year "2016/17")."""
    for p in walk.pending:
        if p.quarter is not None:
            if fy_start is not None:
                month = (3 * p.quarter + 3 - 1) % 12 + 1
                item_year = fy_start if p.quarter < 4 else fy_start + 1
                label = f"Q{p.quarter} {raw}"
            else:
                month, item_year, label = 3 * p.quarter, year, f"Q{p.quarter} {year}"
            walk.items.append(_Item(item_year, month, None, label, walk.current_body))
            continue
        item_year = year
        if fy_start is not None:
            item_year = fy_start if p.month >= 4 else fy_start + 1
        if p.day is not None:
            written = f"{p.day} {MONTH_NAMES[p.month - 1]} {item_year}"
            _add_explicit(walk, item_year, p.month, p.day, written)
            continue
        label = _date_label(None, p.month, item_year, end_of=p.end_of)
        walk.items.append(_Item(item_year, p.month, None, label, walk.current_body))
    walk.pending.clear()


def _read_body(tokens: Sequence[_Token], i: int) -> tuple[str | None, int]:
    """Read a body's name starting at ``tokens[i]``; return it and the next index."""
    words: list[str] = []
    j = i
    while j < len(tokens):
        tok = tokens[j]
        if _looks_like_name(tok):
            words.append(tok.text)
            j += 1
            continue
        if tok.low in _BODY_JOINERS and words:
            nxt = tokens[j + 1] if j + 1 < len(tokens) else None
            if nxt is not None and (_looks_like_name(nxt) or nxt.low in _BODY_JOINERS):
                words.append(tok.text)
                j += 1
                continue
        break
    while words and words[-1].lower() in _BODY_JOINERS:
        words.pop()
        j -= 1
    return (" ".join(words) if words else None), j


def _assign_body(walk: _Walk, body: str) -> None:
    """``for <Body>`` names who the dates read since the last body belong to."""
    pending_items = walk.items[walk.unbodied_from :]
    if pending_items or walk.pending:
        for item in pending_items:
            item.body = body
        walk.unbodied_from = len(walk.items)
        walk.current_body = None
        if walk.pending:  # "March for X 2016" is too tangled to guess
            walk.problems.append(f"could not tell which dates belong to {body}")
    else:
        walk.current_body = body


def _walk_tokens(tokens: Sequence[_Token], walk: _Walk) -> None:
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        i += 1
        if tok.kind == "iso":
            y, m, d = (int(part) for part in tok.text.split("-"))
            _add_explicit(walk, y, m, d, tok.text)
        elif tok.kind == "numeric":
            d, m, y = (int(part) for part in re.split(r"[/.-]", tok.text))
            _add_explicit(walk, y + 2000 if y < 100 else y, m, d, tok.text)
        elif tok.kind == "fy":
            _read_financial_year(walk, tok)
        elif tok.kind == "year":
            year = int(tok.text)
            before = tokens[i - 2] if i >= 2 else None
            if walk.pending:
                _resolve_pending(walk, year, None, tok.text)
            elif before is not None and before.kind == "word" and _looks_like_month(before.text):
                # "Septembr 2027": a misspelt month, not "some time in 2027".
                walk.problems.append(
                    f"'{before.text} {tok.text}': '{before.text}' looks like a misspelt month"
                )
            else:
                walk.items.append(
                    _Item(year, 12, None, tok.text, walk.current_body, year_only=True)
                )
        elif tok.kind == "quarter":
            walk.pending.append(_Pending(month=0, quarter=int(tok.text[1])))
        elif tok.kind == "month":
            walk.pending.append(_Pending(month=_month_of(tok), end_of=walk.end_of_next))
            walk.end_of_next = False
        elif tok.kind == "day":
            i = _read_day(walk, tokens, i, tok, nxt)
        elif tok.kind == "word":
            i = _read_word(walk, tokens, i, tok, nxt)
        elif tok.text not in _IGNORED_MARKS:
            walk.leftovers.append(tok.text)


def _read_financial_year(walk: _Walk, tok: _Token) -> None:
    first, second = (int(p) for p in re.split(r"\s?[/-]\s?", tok.text))
    start = first
    expected = (start + 1) % 100 if second < 100 else start + 1
    if second != expected:
        walk.problems.append(f"'{tok.text}' is not a financial year")
        return
    raw = f"{start}/{(start + 1) % 100:02d}"
    if walk.pending:
        _resolve_pending(walk, start, start, raw)
    else:
        walk.items.append(_Item(start + 1, 3, None, raw, walk.current_body, year_only=True))


def _read_day(
    walk: _Walk, tokens: Sequence[_Token], i: int, tok: _Token, nxt: _Token | None
) -> int:
    day = _day_of(tok)
    if nxt is not None and nxt.kind == "month" and 1 <= day <= 31:
        walk.pending.append(_Pending(month=_month_of(nxt), day=day))
        return i + 1
    previous = tokens[i - 2] if i >= 2 else None
    if (
        previous is not None
        and previous.kind == "month"
        and walk.pending
        and walk.pending[-1].day is None
        and walk.pending[-1].quarter is None
        and 1 <= day <= 31
    ):
        walk.pending[-1].day = day  # "March 31st 2016"
        return i
    walk.leftovers.append(tok.text)
    return i


def _read_word(
    walk: _Walk, tokens: Sequence[_Token], i: int, tok: _Token, nxt: _Token | None
) -> int:
    low = tok.low
    if low in _ONGOING:
        walk.ongoing = True
    elif low in _YEARLY:
        walk.yearly = True
    elif low in _QUARTERLY:
        walk.quarterly = True
    elif low in _MONTHLY:
        walk.monthly = True
    elif low in _TBC:
        walk.tbc = True
    elif low in _ASAP:
        walk.asap = True
    elif low == "every" and nxt is not None and nxt.kind in ("month", "day"):
        walk.yearly = True
    elif low == "endof":
        if nxt is not None and nxt.kind == "month":
            walk.end_of_next = True
        else:
            walk.leftovers.append("end of")
    elif low == "for":
        body, j = _read_body(tokens, i)
        if body is not None:
            _assign_body(walk, body)
            return j
    elif low not in _FILLER:
        walk.leftovers.append(tok.text)
    return i


# --------------------------------------------------------------------------- build


_MEETING_SPLIT = re.compile(r"\bmeetings?\b", re.IGNORECASE)
_DATE_KINDS = {"iso", "numeric", "fy", "year", "quarter", "month"}


def _meeting_bodies(prefix: Sequence[_Token], walk: _Walk) -> list[str]:
    """Bodies named before "meetings" ("X Group and Y Board meetings ...")."""
    bodies: list[str] = []
    current: list[str] = []

    def close() -> None:
        while current and current[-1].lower() in _BODY_JOINERS:
            current.pop()
        while current and current[0].lower() in _BODY_JOINERS:
            current.pop(0)
        if current:
            bodies.append(" ".join(current))
        current.clear()

    for tok in prefix:
        low = tok.low
        if low in {"and", "&", ","}:
            close()
        elif tok.kind == "word" and low in _YEARLY | _QUARTERLY | _MONTHLY | _ONGOING:
            _read_word(walk, [tok], 1, tok, None)
        elif low in {"the", "all"} and not current:
            continue
        elif _looks_like_name(tok) or (current and low in _BODY_JOINERS):
            current.append(tok.text)
        elif tok.kind == "other" and tok.text in ".;:()":
            continue
        else:
            walk.leftovers.append(tok.text)
    close()
    return bodies


def _normalise(text: str) -> str:
    out = " ".join(text.split())
    for pattern, keyword in _PHRASES:
        out = pattern.sub(keyword, out)
    return " ".join(out.split())


def _bodies_for(item: _Item, bodies: Sequence[str]) -> list[str | None]:
    """The item's own "for <Body>", else the bodies named before "meetings", else none."""
    if item.body:
        return [item.body]
    return [*bodies] if bodies else [None]


def _recurrence_for_item(
    item: _Item,
    body: str | None,
    reference_year: int | None,
    policy: DeadlineDay,
    year_given: bool,
) -> Recurrence:
    start_year = item.year if year_given else (reference_year or DEFAULT_REFERENCE_YEAR)
    name = MONTH_NAMES[item.month - 1]
    if item.day is not None:
        last = _calendar.monthrange(start_year, item.month)[1]
        return Recurrence(
            rrule=f"FREQ=YEARLY;BYMONTH={item.month};BYMONTHDAY={item.day}",
            dtstart=dt.date(start_year, item.month, min(item.day, last)),
            body=body,
            label=f"{item.day} {name} annually",
        )
    by_day = 1 if policy == "first_day" else -1
    label = f"every {name}" + (f" from {start_year}" if year_given else "")
    return Recurrence(
        rrule=f"FREQ=YEARLY;BYMONTH={item.month};BYMONTHDAY={by_day}",
        dtstart=dt.date(start_year, item.month, 1),
        body=body,
        label=label,
        month_only=True,
        roll="previous_working_day" if policy == "last_working_day" else "none",
    )


def _periodic(
    months: int,
    start: dt.date,
    body: str | None,
    label: str,
    policy: DeadlineDay,
) -> Recurrence:
    by_day = 1 if policy == "first_day" else -1
    rule = "FREQ=MONTHLY" + (f";INTERVAL={months}" if months > 1 else "")
    return Recurrence(
        rrule=f"{rule};BYMONTHDAY={by_day}",
        dtstart=start.replace(day=1),
        body=body,
        label=label,
        month_only=True,
        roll="previous_working_day" if policy == "last_working_day" else "none",
    )


_T = TypeVar("_T")


def _dedupe(values: Sequence[_T]) -> tuple[_T, ...]:
    seen: list[_T] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen)


def _quote(words: Sequence[str]) -> str:
    text = " ".join(words)
    return f"'{text[:80]}…'" if len(text) > 80 else f"'{text}'"


def _parse(
    text: str,
    cal: WorkingCalendar,
    policy: DeadlineDay,
    reference_year: int | None,
) -> Timescale:
    clean = _normalise(text)
    if not clean:
        return Timescale(
            original=text,
            unparsed=True,
            flag="No timescale given: add a date, a month such as 'April 2027' or 'Ongoing'.",
            deadline_day=policy,
        )

    walk = _Walk()
    bodies: list[str] = []
    meeting = False
    split = _MEETING_SPLIT.search(clean)
    if split is not None:
        meeting = True
        prefix = _tokenize(clean[: split.start()])
        rest = _tokenize(clean[split.end() :])
        if any(t.kind in _DATE_KINDS for t in prefix):
            _walk_tokens([*prefix, *rest], walk)
        else:
            bodies = _meeting_bodies(prefix, walk)
            _walk_tokens(rest, walk)
    else:
        _walk_tokens(_tokenize(clean), walk)

    milestones: list[Milestone] = []
    recurrences: list[Recurrence] = []
    meetings: list[MeetingSlot] = []
    problems = list(walk.problems)

    # months still waiting for a year
    if walk.pending:
        if walk.yearly:
            for p in walk.pending:
                if p.quarter is not None:
                    problems.append(f"'Q{p.quarter}' has no year")
                    continue
                item = _Item(DEFAULT_REFERENCE_YEAR, p.month, p.day, "", walk.current_body)
                if p.day is not None and not _valid_day_month(p.day, p.month):
                    problems.append(f"'{p.day} {MONTH_NAMES[p.month - 1]}' is not a real date")
                    continue
                recurrences.extend(
                    _recurrence_for_item(item, b, reference_year, policy, False)
                    for b in _bodies_for(item, bodies)
                )
        elif reference_year is not None:
            missing = ", ".join(_pending_words(walk.pending))
            problems.append(f"no year given for {missing}; {reference_year} was assumed")
            _resolve_pending(walk, reference_year, None, str(reference_year))
        else:
            missing = ", ".join(_pending_words(walk.pending))
            problems.append(f"no year given for {missing}")
        walk.pending.clear()

    kind: MilestoneKind = "milestone" if walk.ongoing or meeting else "deadline"
    items = walk.items
    if (walk.quarterly or walk.monthly) and len(items) == 1 and items[0].day is None:
        start_item = items.pop(0)  # "quarterly from April 2016": the first of the run
        start: dt.date | None = dt.date(start_item.year, start_item.month, 1)
        period_label = f"from {_date_label(None, start_item.month, start_item.year)}"
        period_body = start_item.body
    else:
        start = None
        period_label = ""
        period_body = walk.current_body

    for item in items:
        if item.year_only:
            problems.append(f"only a year was given ('{item.label}'); the end of it was assumed")
        if walk.yearly:
            recurrences.extend(
                _recurrence_for_item(item, b, reference_year, policy, True)
                for b in _bodies_for(item, bodies)
            )
            continue
        if meeting and item.day is None and not item.year_only:
            targets = [item.body] if item.body else (bodies or [""])
            meetings.extend(
                MeetingSlot(body=b, month=dt.date(item.year, item.month, 1)) for b in targets
            )
            continue
        if item.day is not None:
            due = dt.date(item.year, item.month, item.day)
        else:
            due = _month_due(item.year, item.month, _policy_for(item.label, policy), cal)
        item_bodies = _bodies_for(item, bodies)
        milestones.extend(
            Milestone(
                due_on=due,
                body=b,
                month_only=item.day is None,
                kind=kind,
                label=item.label,
            )
            for b in item_bodies
        )

    period_bodies: list[str | None] = [period_body] if period_body else ([*bodies] or [None])
    ref = reference_year or DEFAULT_REFERENCE_YEAR
    if walk.quarterly:
        first = start or dt.date(ref, 3, 1)
        label = " ".join(filter(None, ["quarterly", period_label]))
        recurrences.extend(_periodic(3, first, b, label, policy) for b in period_bodies)
    if walk.monthly:
        first = start or dt.date(ref, 1, 1)
        label = " ".join(filter(None, ["monthly", period_label]))
        recurrences.extend(_periodic(1, first, b, label, policy) for b in period_bodies)
    if walk.yearly and not recurrences:
        problems.append("it says 'annually' but not when in the year")

    if meeting and bodies:
        # body-major order: all of one body's meetings, then the next body's
        meetings.sort(key=lambda s: bodies.index(s.body) if s.body in bodies else len(bodies))

    result_milestones = _dedupe(milestones)
    result_recurrences = _dedupe(recurrences)
    result_meetings = _dedupe(meetings)
    has_anything = bool(walk.ongoing or result_milestones or result_recurrences or result_meetings)

    if walk.tbc:
        problems.insert(0, "it is marked 'to be confirmed'")
    if walk.asap:
        problems.insert(0, "'as soon as possible' is not a date")
    if walk.leftovers:
        problems.append(f"could not read {_quote(walk.leftovers)}")
    flag = _flag_sentence(problems, has_anything) if problems or not has_anything else None

    return Timescale(
        original=text,
        ongoing=walk.ongoing,
        milestones=result_milestones,
        recurrences=result_recurrences,
        meetings=result_meetings,
        unparsed=not has_anything,
        flag=flag,
        deadline_day=policy,
    )


def _valid_day_month(day: int, month: int) -> bool:
    return day <= _calendar.monthrange(2000, month)[1]  # 2000 is a leap year


def _pending_words(pending: Sequence[_Pending]) -> list[str]:
    words: list[str] = []
    for p in pending:
        if p.quarter is not None:
            words.append(f"Q{p.quarter}")
        elif p.day is not None:
            words.append(f"{p.day} {MONTH_NAMES[p.month - 1]}")
        else:
            words.append(MONTH_NAMES[p.month - 1])
    return words


def _flag_sentence(problems: Sequence[str], has_anything: bool) -> str:
    detail = "; ".join(problems) if problems else "no date could be read"
    detail = detail[:1].upper() + detail[1:]
    if has_anything:
        return f"{detail}. Please check the dates read from this timescale."
    return (
        f"{detail}. Please set a date, e.g. '31 March 2027', 'April 2027', "
        "'31 March annually' or 'Ongoing'."
    )


def parse_timescale(
    text: str,
    *,
    calendar: WorkingCalendar | None = None,
    deadline_day: DeadlineDay = "last_working_day",
    reference_year: int | None = None,
) -> Timescale:
    """Read a Timescale cell. Never raises; ``original`` is always ``text`` unchanged.

    ``reference_year`` is the year assumed for texts that name none ("31 March
    annually" starts then; defaults to 1970 so any window has occurrences).
    """
    cal = calendar or default_calendar()
    try:
        return _parse(text, cal, deadline_day, reference_year)
    except Exception:  # a last resort: a plan row must never be lost to a parser bug
        return Timescale(
            original=text,
            unparsed=True,
            flag=PARSER_FAILURE_FLAG,
            deadline_day=deadline_day,
        )
