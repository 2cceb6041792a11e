"""The weekly digest's read model: the frozen facts, as of one instant, its blocks show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.plan.models import DueItem, MeetingView
from bot.plan.years import DEFAULT_ZONE

DUE_DAYS = 14
PROGRESS_DAYS = 7
MEETING_DAYS = 14


@dataclass(frozen=True)
class ProgressLine:
    at: dt.datetime
    author: str
    slack_user_id: str | None
    objective_title: str
    rag: str | None
    done: bool
    note: str
    action: int | None = None  # the action's number, when its objective has several


@dataclass(frozen=True)
class ReferralCounts:
    opened: int
    acknowledged: int
    awaiting_past_deadline: int


@dataclass(frozen=True)
class Digest:
    partnership_name: str
    today: dt.date
    rag_counts: dict[str, int]  # "red", "amber", "green", "none", "done"
    total: int
    overdue: tuple[DueItem, ...]
    due_soon: tuple[DueItem, ...]
    progress: tuple[ProgressLine, ...]
    meetings: tuple[MeetingView, ...]
    referrals: ReferralCounts | None
    zone: str = DEFAULT_ZONE  # the partnership's: progress days and snooze ends are local
    # Each objective with several actions, in plan order: (title, how its actions stand,
    # "1 of 2 actions done; action 2 red").
    standings: tuple[tuple[str, str], ...] = ()
