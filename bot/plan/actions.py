"""An objective's actions: finding one by its number, adding one, and the objective's roll-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from store.models import Action, Objective, ObjectiveStatus, Rag

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


def sole_action(objective: Objective) -> Action | None:
    """The objective's action when it has just one (the seed's case), else None."""
    return objective.actions[0] if len(objective.actions) == 1 else None


def action_for_item(objective: Objective, action_id: int | None) -> Action | None:
    """The action with this id among the objective's; None for None or a stranger's id."""
    if action_id is None:
        return None
    for action in objective.actions:
        if action.id == action_id:
            return action
    return None
