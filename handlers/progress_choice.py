"""Which objective and action a progress form or button names, read from what Slack sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.ids import Ids


def objective_and_action(value: object) -> tuple[int | None, int | None]:
    """ "12" -> (12, None); "12:2" -> (12, 2) (an action of an objective with several);
    anything else -> (None, None)."""
    text = str(value or "")
    head, _, tail = text.partition(":")
    try:
        objective = int(head)
        number = int(tail) if tail else None
    except ValueError:
        return None, None
    return objective, number


def action_problem(
    objective_id: int,
    number: int | None,
    actions: Mapping[int, Sequence[tuple[int, str]]],
    values: Mapping[str, Any],
) -> tuple[int | None, str | None]:
    """The action number for ``objective_id`` (from ``number`` or the form's action
    menu) and, when it is missing or not one of the objective's, what to tell the person."""
    several = actions.get(objective_id, ())
    if len(several) < 2:
        return None, None
    if number is None:
        menu = values.get(Ids.PROGRESS_ACTION, {}).get(Ids.PROGRESS_ACTION) or {}
        picked = str((menu.get("selected_option") or {}).get("value") or "")
        number = int(picked) if picked.isdigit() else None
    if number is None:
        return None, (
            f"This objective has {len(several)} actions: choose which one the update is "
            "about (or type its number after the objective, e.g. prevent 2)."
        )
    if all(n != number for n, _ in several):
        return None, f"It has actions 1 to {len(several)}; choose one of them."
    return number, None
