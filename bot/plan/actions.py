"""An objective's actions: finding one by number, adding one, the roll-up, and reminder scopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from store.models import (
    Action,
    Meeting,
    Objective,
    ObjectiveOwner,
    ObjectiveStatus,
    Rag,
    ScheduleItem,
)

_RAG_ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


def with_actions() -> list[_AbstractLoad]:
    """Loader options for objectives read with their actions' owners and schedules."""
    actions = selectinload(Objective.actions)
    return [actions.selectinload(Action.owners), actions.selectinload(Action.schedule)]


def worst_rag(rags: Sequence[str | None]) -> Rag | None:
    """The worst of the RAGs given (red, then amber, then green); None if none is set."""
    known = [Rag(r) for r in rags if r]
    return min(known, key=_RAG_ORDER.__getitem__) if known else None


def roll_up(objective: Objective) -> None:
    """Bring the objective's own columns in line with its actions (see store.models.Objective).

    One action: the objective's text, timescale, status, RAG, needs-dating and imported
    progress are the action's. Several: the texts numbered and joined, the distinct
    timescales joined, open while any action is open (waived when every action is
    waived, else done), the worst RAG of the open actions (of all, once none is open),
    and needs dating while an open action does."""
    actions = list(objective.actions)
    if not actions:
        return
    if len(actions) == 1:
        only = actions[0]
        values: dict[str, object] = {
            "action_text": only.text,
            "timescale_text": only.timescale_text,
            "status": only.status,
            "rag": only.rag,
            "needs_dating": only.needs_dating,
            "imported_progress": only.imported_progress,
        }
    else:
        still_open = [a for a in actions if a.status == ObjectiveStatus.OPEN]
        if still_open:
            status = ObjectiveStatus.OPEN
        elif all(a.status == ObjectiveStatus.WAIVED for a in actions):
            status = ObjectiveStatus.WAIVED
        else:
            status = ObjectiveStatus.DONE
        progress = [f"{a.position}. {a.imported_progress}" for a in actions if a.imported_progress]
        values = {
            "action_text": "\n".join(f"{a.position}. {a.text}" for a in actions),
            "timescale_text": "; ".join(
                dict.fromkeys(a.timescale_text for a in actions if a.timescale_text)
            ),
            "status": status,
            "rag": worst_rag([a.rag for a in (still_open or actions)]),
            "needs_dating": any(a.needs_dating for a in still_open),
            "imported_progress": "\n".join(progress) or None,
        }
    values["file_columns"] = actions[0].file_columns  # the objective's first row's cells
    for name, value in values.items():
        if getattr(objective, name) != value:
            setattr(objective, name, value)


def add_action(objective: Objective, *, text: str, timescale_text: str, now: dt.datetime) -> Action:
    """A new open action at the end of the objective's list (not yet scheduled)."""
    action = Action(
        position=len(objective.actions) + 1,
        text=text,
        timescale_text=timescale_text,
        status=ObjectiveStatus.OPEN,
        needs_dating=False,
        created_at=now,
        updated_at=now,
    )
    objective.actions.append(action)
    return action


def numbered(objective: Objective, number: int) -> Action | None:
    """The objective's action with this number (from 1), or None."""
    for action in objective.actions:
        if action.position == number:
            return action
    return None


def number_of(objective: Objective, action_id: int | None) -> int | None:
    """The number of the action with this id, when the objective has several (None for
    one action, no id, or an id not among its actions)."""
    if len(objective.actions) < 2:
        return None
    return next((a.position for a in objective.actions if a.id == action_id), None)


def action_for_item(objective: Objective, action_id: int | None) -> Action | None:
    """The action with this id among the objective's; None for None or a stranger's id."""
    if action_id is None:
        return None
    for action in objective.actions:
        if action.id == action_id:
            return action
    return None


@dataclass(frozen=True)
class Scope:
    """One action as the schedule maths and the reminders see an objective
    (``bot.plan.models.ObjectiveLike``): its owners, schedule and status, under its
    objective's id and title. For an objective with one action the scope is the
    objective itself (``action_id`` None), so its notices keep their keys and words."""

    id: int
    title: str
    rag: str | None
    status: str
    needs_dating: bool
    timescale_text: str
    owners: Sequence[ObjectiveOwner]
    schedule: Sequence[ScheduleItem]
    meetings: Sequence[Meeting]
    snoozed_until: dt.datetime | None
    created_at: dt.datetime
    action_id: int | None = None
    action: str | None = None  # "2. Train staff" when the objective has several

    @property
    def key(self) -> str:
        """The part of a notice's key naming what it is about: "o12", or "o12a40"."""
        return f"o{self.id}" if self.action_id is None else f"o{self.id}a{self.action_id}"


def scopes(objective: Objective) -> list[Scope]:
    """What reminders are planned for: the objective when it has one action, else each
    action (the objective's meetings go with its first)."""
    if len(objective.actions) <= 1:
        return [_whole(objective)]
    return [_action_scope(objective, a) for a in objective.actions]


def _action_scope(objective: Objective, action: Action) -> Scope:
    return Scope(
        id=objective.id,
        title=objective.title,
        rag=action.rag,
        status=action.status,
        needs_dating=action.needs_dating,
        timescale_text=action.timescale_text,
        owners=action.owners,
        schedule=action.schedule,
        meetings=objective.meetings if action.position == 1 else (),
        snoozed_until=objective.snoozed_until,
        created_at=action.created_at,
        action_id=action.id,
        action=f"{action.position}. {action.text}",
    )


def scope_of(objective: Objective, action_id: object) -> Scope:
    """The scope a notice was planned for (its payload's ``action_id``): that action's,
    or the objective's when it names none (or an action no longer there)."""
    found = action_for_item(objective, action_id if isinstance(action_id, int) else None)
    if found is None or len(objective.actions) <= 1:
        return _whole(objective)
    return _action_scope(objective, found)


def _whole(objective: Objective) -> Scope:
    """The objective itself as a scope (its roll-up, every action's owners and items)."""
    return Scope(
        id=objective.id,
        title=objective.title,
        rag=objective.rag,
        status=objective.status,
        needs_dating=objective.needs_dating,
        timescale_text=objective.timescale_text,
        owners=objective.owners,
        schedule=objective.schedule,
        meetings=objective.meetings,
        snoozed_until=objective.snoozed_until,
        created_at=objective.created_at,
    )
