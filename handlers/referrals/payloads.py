"""Reading referral interactions: the answers in a submitted modal and the view they came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def form_values(state_values: object) -> dict[str, str | None]:
    """view.state.values -> {block id: typed or chosen value}; tolerant of odd payloads."""
    out: dict[str, str | None] = {}
    if not isinstance(state_values, Mapping):
        return out
    for block_id, actions in state_values.items():
        if not isinstance(actions, Mapping):
            continue
        for action in actions.values():
            if not isinstance(action, Mapping):
                continue
            value: object = action.get("value")
            option = action.get("selected_option")
            if isinstance(option, Mapping):
                value = option.get("value")
            for key in ("selected_date", "selected_user"):
                if action.get(key) is not None:
                    value = action.get(key)
            out[str(block_id)] = value if isinstance(value, str) else None
            break
    return out


def view_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The view a submission or a click in a modal came from (empty if none)."""
    view = body.get("view")
    return view if isinstance(view, Mapping) else {}
