"""The plan snapshot's shapes: frozen objectives, actions, owners, schedule items, meetings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class OwnerSnap:
    label: str
    slack_user_id: str | None
    action_id: int | None = None


@dataclass(frozen=True)
class ItemSnap:
    kind: str
    due_on: dt.date | None
    body: str | None
    month_only: bool
    rrule: str | None
    source_text: str
    done_at: dt.datetime | None
    created_on: dt.date | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class MeetingSnap:
    id: int
    body: str
    month: dt.date
    meeting_date: dt.date | None


@dataclass(frozen=True)
class ActionSnap:
    id: int
    position: int
    text: str
    status: str
    rag: str | None
    needs_dating: bool
    timescale_text: str


@dataclass(frozen=True)
class ObjectiveSnap:
    """An objective (its roll-up, owners and schedule of all its actions), or, with
    ``action_id``, one of its actions seen the same way (:func:`scopes`)."""

    id: int
    title: str
    rag: str | None
    status: str
    needs_dating: bool
    timescale_text: str
    owners: tuple[OwnerSnap, ...]
    schedule: tuple[ItemSnap, ...]
    meetings: tuple[MeetingSnap, ...]
    actions: tuple[ActionSnap, ...] = ()
    action_id: int | None = None
    action: str | None = None  # "2. Train staff" for an action of an objective with several


def scopes(objective: ObjectiveSnap) -> tuple[ObjectiveSnap, ...]:
    """What is due and overdue is worked out for: the objective when it has one action,
    else each of its actions with its own owners, schedule, status and RAG (the
    objective's meetings go with its first action)."""
    if len(objective.actions) <= 1:
        return (objective,)
    return tuple(
        ObjectiveSnap(
            id=objective.id,
            title=objective.title,
            rag=a.rag,
            status=a.status,
            needs_dating=a.needs_dating,
            timescale_text=a.timescale_text,
            owners=tuple(o for o in objective.owners if o.action_id == a.id),
            schedule=tuple(i for i in objective.schedule if i.action_id == a.id),
            meetings=objective.meetings if a.position == 1 else (),
            action_id=a.id,
            action=f"{a.position}. {a.text}",
        )
        for a in objective.actions
    )
