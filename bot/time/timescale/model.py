"""What a Timescale cell reads as: milestones, recurrences, meeting months, and moving them on."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from collections.abc import Iterator
from typing import Literal

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from pydantic import BaseModel, field_validator

from bot.time.recurrence import rule_dates
from bot.time.timescale.duedates import DeadlineDay, date_label, month_due, policy_for
from bot.time.timescale.lexicon import MONTH_NAMES
from bot.time.workdays import WorkingCalendar, default_calendar

MilestoneKind = Literal["deadline", "milestone"]
Roll = Literal["none", "previous_working_day"]


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

    def _iter_from(self, after: dt.date, calendar: WorkingCalendar | None) -> Iterator[dt.date]:
        """Occurrence dates on or after ``after``, in order (rolled if asked)."""
        return rule_dates(
            self.rrule,
            self.dtstart,
            after,
            calendar or default_calendar(),
            roll_back=self.roll == "previous_working_day",
        )

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
    starts_on: dt.date | None = None  # "From June 2025 onwards": when the work begins
    cadence: str | None = None  # a frequency read without its dates ("annually", "weekly")

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
        starts = self.starts_on + shift if self.starts_on is not None else None
        return self.model_copy(
            update={
                "milestones": milestones,
                "recurrences": recurrences,
                "meetings": meetings,
                "starts_on": starts,
            }
        )

    def _shift_milestone(
        self, m: Milestone, shift: relativedelta, years: int, cal: WorkingCalendar
    ) -> Milestone:
        if m.month_only:
            year = (m.due_on + shift).year
            due = month_due(year, m.due_on.month, policy_for(m.label, self.deadline_day), cal)
            return m.model_copy(update={"due_on": due, "label": _shift_label(m.label, years)})
        due = m.due_on + shift
        old = m.due_on
        if m.label == date_label(old.day, old.month, old.year):
            label = date_label(due.day, due.month, due.year)  # 29 February -> 28 February
        else:
            label = _shift_label(m.label, years)
        return m.model_copy(update={"due_on": due, "label": label})


def _with_body(label: str, body: str | None) -> str:
    return f"{body}: {label}" if body else label


def _month_end(first: dt.date) -> dt.date:
    return first.replace(day=_calendar.monthrange(first.year, first.month)[1])


_LABEL_YEAR = re.compile(r"\b((?:19|20)\d{2})(?:/(\d{2}))?\b")


def _shift_label(label: str, years: int) -> str:
    def repl(match: re.Match[str]) -> str:
        start = int(match.group(1)) + years
        if match.group(2) is None:
            return str(start)
        return f"{start}/{(start + 1) % 100:02d}"

    return _LABEL_YEAR.sub(repl, label)
