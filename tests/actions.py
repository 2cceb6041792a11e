"""Test helper: the first action of an objective built in a test, made when it has none."""

from __future__ import annotations

from store.models import Action, Objective, ObjectiveStatus


def first_action(objective: Objective) -> Action:
    """The objective's first action; an open one with the objective's texts if it has none."""
    if not objective.actions:
        objective.actions.append(
            Action(
                position=1,
                text=objective.action_text or "",
                timescale_text=objective.timescale_text or "",
                status=ObjectiveStatus.OPEN,
                needs_dating=False,
                created_at=objective.created_at,
                updated_at=objective.updated_at,
            )
        )
    return objective.actions[0]
