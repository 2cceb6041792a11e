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


@dataclass(frozen=True)
class ActionSection:
    """One action of an objective (today each objective has the one action it states)."""

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
    number: int
    title: str
    statutory_basis: str | None
    actions: tuple[ActionSection, ...]


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
