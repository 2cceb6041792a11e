"""An objective as it stood at an instant, from its progress history: RAG, status, done items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.plan.snapshot import ObjectiveSnap
from store.models import ObjectiveStatus


@dataclass(frozen=True)
class Entry:
    """One progress entry, as the pack reads it."""

    at: dt.datetime
    author: str
    rag: str | None
    done: bool
    note: str


def status_at(objective: ObjectiveSnap, history: Sequence[Entry], cut: dt.datetime) -> str:
    """The objective's status just before ``cut``: a closed objective counts as done from
    its last "done" entry (or throughout, when it was imported done)."""
    if objective.status == ObjectiveStatus.WAIVED:
        return ObjectiveStatus.WAIVED
    if objective.status != ObjectiveStatus.DONE:
        return ObjectiveStatus.OPEN
    done = [e.at for e in history if e.done]
    if not done or done[-1] < cut:
        return ObjectiveStatus.DONE
    return ObjectiveStatus.OPEN


def rag_at(objective: ObjectiveSnap, history: Sequence[Entry], cut: dt.datetime) -> str | None:
    """The last RAG logged before ``cut``; with no RAG ever logged, the plan's own
    (imported) RAG, which then holds throughout."""
    rated = [e for e in history if e.rag]
    if not rated:
        return objective.rag
    before = [e for e in rated if e.at < cut]
    return before[-1].rag if before else None


def bucket_at(objective: ObjectiveSnap, history: Sequence[Entry], cut: dt.datetime) -> str:
    """Where the objective counts in the RAG table just before ``cut``."""
    status = status_at(objective, history, cut)
    if status != ObjectiveStatus.OPEN:
        return str(status)
    return rag_at(objective, history, cut) or "not rated"


def as_of(objective: ObjectiveSnap, history: Sequence[Entry], cut: dt.datetime) -> ObjectiveSnap:
    """The objective as the schedule maths would have seen it just before ``cut``: items
    marked done later are open again, and so is an objective closed later."""
    schedule = tuple(
        replace(item, done_at=None) if item.done_at is not None and item.done_at >= cut else item
        for item in objective.schedule
    )
    return replace(objective, schedule=schedule, status=status_at(objective, history, cut))
