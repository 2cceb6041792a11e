"""The plan's read models: frozen summaries and views, and the shapes they are built from.

Handlers and builders take these, never ORM objects. The ``*Like`` protocols are what
the schedule maths reads: an ORM objective or its snapshot in ``bot.plan.readcache``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.plan.years import DEFAULT_ZONE


@dataclass(frozen=True)
class ObjectiveSummary:
    id: int
    title: str
    owners: tuple[str, ...]
    owner_ids: tuple[str, ...]
    rag: str | None
    status: str
    next_date: dt.date | None
    next_label: str | None
    overdue: bool
    overdue_since: dt.date | None
    needs_dating: bool
    ongoing: bool
    timescale_text: str
    last_progress_at: dt.datetime | None
    # The next thing is known only to the month (an undated meeting, a month-only
    # deadline): show next_label alone, with no made-up day and no "in N days".
    next_month_only: bool = False


@dataclass(frozen=True)
class ScheduleLine:
    kind: str
    due_on: dt.date | None
    body: str | None
    label: str
    rrule: str | None
    done: bool = False


@dataclass(frozen=True)
class ProgressView:
    at: dt.datetime
    author: str
    slack_user_id: str | None
    rag: str | None
    done: bool
    note: str
    as_of: dt.date | None
    evidence_url: str | None


@dataclass(frozen=True)
class ActionDetail:
    """One action of an objective with several: its number, text and own summary."""

    number: int
    text: str
    summary: ObjectiveSummary


@dataclass(frozen=True)
class ObjectiveDetail:
    summary: ObjectiveSummary
    action_text: str
    statutory_basis: str | None
    schedule: tuple[ScheduleLine, ...]
    recent_progress: tuple[ProgressView, ...]
    # For an objective with several actions: each action, and which action each of
    # ``recent_progress`` was logged against (None for one action).
    actions: tuple[ActionDetail, ...] = ()
    recent_actions: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class DueItem:
    objective_id: int
    title: str
    due_on: dt.date
    label: str
    body: str | None
    overdue: bool
    owner_ids: tuple[str, ...]
    kind: str
    month_only: bool = False  # known only to the month: show the label, not a day
    # Overdue but snoozed: notices are silenced until then; it is still overdue.
    snoozed_until: dt.datetime | None = None
    # The action it belongs to when its objective has several: "2. Train staff".
    action: str | None = None


@dataclass(frozen=True)
class MeetingView:
    id: int
    body: str
    month: dt.date
    meeting_date: dt.date | None
    start_time: dt.time | None
    place: str | None
    papers_due: dt.date | None
    moved_from: str | None = None  # set_meeting: "December 2026 (date to be set)" when moved

    @property
    def date_to_be_set(self) -> bool:
        return self.meeting_date is None

    @property
    def sort_date(self) -> dt.date:
        return self.meeting_date or self.month


class ItemLike(Protocol):
    """A schedule item: the ORM row or its read-model snapshot."""

    @property
    def kind(self) -> str: ...
    @property
    def due_on(self) -> dt.date | None: ...
    @property
    def body(self) -> str | None: ...
    @property
    def month_only(self) -> bool: ...
    @property
    def rrule(self) -> str | None: ...
    @property
    def source_text(self) -> str: ...
    @property
    def done_at(self) -> dt.datetime | None: ...
    @property
    def created_on(self) -> dt.date | None: ...


class OwnerLike(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def slack_user_id(self) -> str | None: ...


class MeetingLike(Protocol):
    @property
    def body(self) -> str: ...
    @property
    def month(self) -> dt.date: ...
    @property
    def meeting_date(self) -> dt.date | None: ...


class ObjectiveLike(Protocol):
    """An objective with its owners, schedule and linked meetings (ORM or snapshot)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def rag(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def needs_dating(self) -> bool: ...
    @property
    def timescale_text(self) -> str: ...
    @property
    def owners(self) -> Sequence[OwnerLike]: ...
    @property
    def schedule(self) -> Sequence[ItemLike]: ...
    @property
    def meetings(self) -> Sequence[MeetingLike]: ...


@dataclass(frozen=True)
class ProgressFacts:
    """What the overdue rule needs beyond the schedule: the local days of each
    objective's "done" entries, and snoozes (which only silence notices)."""

    done_days: dict[int, tuple[dt.date, ...]]
    snoozed_until: dict[int, dt.datetime]
    zone: str = DEFAULT_ZONE  # the partnership's, for the local day a snooze ends
    # By action id, for objectives with several actions (one action's "done" meets
    # none of another's occurrences).
    action_done_days: dict[int, tuple[dt.date, ...]] = field(default_factory=dict)
