"""The scrutiny pack's read model: frozen sections that every renderer (Word, Excel) draws.

Built by :func:`bot.reports.build.build_report`; nothing here holds an ORM object, a
session or a referral's contents (referrals appear as counts only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.time.quarters import Quarter

TITLE = "Quarterly scrutiny pack"

# The RAG buckets, in the order every table and the chart shows them.
BUCKETS: tuple[str, ...] = ("red", "amber", "green", "not rated", "done", "waived")
BUCKET_LABELS: dict[str, str] = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "not rated": "Not rated",
    "done": "Done",
    "waived": "Waived",
}


@dataclass(frozen=True)
class RagCount:
    bucket: str
    at_start: int
    now: int

    @property
    def label(self) -> str:
        return BUCKET_LABELS[self.bucket]

    @property
    def change(self) -> int:
        return self.now - self.at_start


@dataclass(frozen=True)
class Summary:
    counts: tuple[RagCount, ...]
    improved: int  # actions whose RAG moved towards green (or to done) in the quarter
    worsened: int
    unchanged: int
    overdue: int  # actions with something overdue at the end of the period
    notes: int  # progress entries logged in the quarter


@dataclass(frozen=True)
class NoteLine:
    on: dt.date
    author: str
    status: str  # "red", "amber", "green", "done" or "" (a note alone)
    note: str


@dataclass(frozen=True)
class OverdueLine:
    due_on: dt.date
    label: str
    days: int  # how long overdue at the end of the period


@dataclass(frozen=True)
class DeadlineLine:
    due_on: dt.date
    label: str
    month_only: bool


#: How far from green a RAG bucket is: the worst (lowest) of an objective's open actions
#: is its roll-up, as ``bot.plan.actions.roll_up`` rolls the plan's columns up.
_WORST_FIRST = {"red": 0, "amber": 1, "green": 2}


def rolled_up(buckets: tuple[str, ...]) -> str:
    """The bucket of an objective from its actions' buckets: done (waived when every
    action is) once none is open, else the worst RAG of the open ones ("not rated" when
    none of them is rated)."""
    still_open = [b for b in buckets if b not in ("done", "waived")]
    if not still_open:
        return "waived" if buckets and all(b == "waived" for b in buckets) else "done"
    rated = [b for b in still_open if b in _WORST_FIRST]
    return min(rated, key=_WORST_FIRST.__getitem__) if rated else "not rated"


@dataclass(frozen=True)
class ActionSection:
    """One action of an objective: the one its plan row states, or one of several."""

    text: str
    owners: tuple[str, ...]
    status: str
    rag_start: str  # a bucket of BUCKETS
    rag_now: str
    notes: tuple[NoteLine, ...]
    overdue: tuple[OverdueLine, ...]
    next_deadlines: tuple[DeadlineLine, ...]


@dataclass(frozen=True)
class ObjectiveSection:
    """An objective and its actions; with several, the properties are its roll-up."""

    number: int
    title: str
    statutory_basis: str | None
    actions: tuple[ActionSection, ...]

    @property
    def several(self) -> bool:
        return len(self.actions) > 1

    @property
    def status(self) -> str:
        """Open while any action is open; waived when every action is; else done."""
        statuses = [a.status for a in self.actions]
        if "open" in statuses or not statuses:
            return "open"
        return "waived" if all(s == "waived" for s in statuses) else "done"

    @property
    def rag_start(self) -> str:
        return rolled_up(tuple(a.rag_start for a in self.actions))

    @property
    def rag_now(self) -> str:
        return rolled_up(tuple(a.rag_now for a in self.actions))

    @property
    def done_count(self) -> int:
        """Actions done or waived by the end of the period."""
        return sum(1 for a in self.actions if a.status != "open")


@dataclass(frozen=True)
class MeetingLine:
    body: str
    month: dt.date
    meeting_date: dt.date | None
    start_time: dt.time | None
    place: str | None

    @property
    def when(self) -> str:
        if self.meeting_date is None:
            return f"{self.month:%B %Y} (date to be set)"
        text = f"{self.meeting_date.day} {self.meeting_date:%B %Y}"
        return f"{text} {self.start_time:%H:%M}" if self.start_time else text


@dataclass(frozen=True)
class CycleLine:
    """One date of the statutory cycle and whether it was (or is being) met on time."""

    duty: str  # "Strategic assessment", "Partnership plan", "Scrutiny"
    objective: str
    due_on: dt.date | None  # None: the duty is not in the plan
    label: str
    state: str  # "done on time", "done late", "overdue", "due", "held", "not yet dated"
    detail: str  # e.g. "done 28 April 2026", "overdue by 12 days", "in 30 days"


@dataclass(frozen=True)
class CountRow:
    label: str
    count: int


@dataclass(frozen=True)
class ReferralFigures:
    """Referrals opened in the period, as counts only: no name, narrative or reference."""

    total: int
    by_category: tuple[CountRow, ...]
    by_urgency: tuple[CountRow, ...]
    by_clock: tuple[CountRow, ...]  # acknowledged within the clock, late, waiting...


@dataclass(frozen=True)
class Report:
    partnership: str
    quarter: Quarter
    as_at: dt.date  # the period's last day, or the day the pack was made if earlier
    summary: Summary
    objectives: tuple[ObjectiveSection, ...]
    meetings_held: tuple[MeetingLine, ...]
    meetings_coming: tuple[MeetingLine, ...]
    cycle: tuple[CycleLine, ...]
    referrals: ReferralFigures

    @property
    def complete(self) -> bool:
        """Whether the quarter had ended when the pack was made."""
        return self.as_at >= self.quarter.end

    @property
    def period(self) -> str:
        return f"{self.quarter.label} ({self.quarter.months})"
