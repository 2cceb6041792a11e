"""The shape check for signed Slack bodies: what must be a dict or a list before Bolt reads it.

Bolt and the listeners index into these fields (``body["actions"][0]``,
``body["view"]["state"]``) without checking them; a signed body that breaks that
shape is refused with a 400 by the transport instead of failing inside a listener.
"""

from __future__ import annotations

from typing import Any

# "team" is left out: Bolt reads it as an object or as a plain id.
_DICT_FIELDS = ("user", "channel", "container", "message", "view", "event")


def malformed(body: Any) -> str | None:
    """Why ``body`` (as Bolt parsed it) is not a Slack payload, in a few words
    naming no content; None when its shape is usable."""
    if not isinstance(body, dict):
        return "body is not an object"
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return "type is not text"
    for field in _DICT_FIELDS:
        if field in body and body[field] is not None and not isinstance(body[field], dict):
            return f"{field} is not an object"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions is not a list"
        if not all(isinstance(a, dict) for a in actions):
            return "an action is not an object"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return "view is not an object"
        state = view.get("state", {})
        values = state.get("values", {}) if isinstance(state, dict) else None
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            return "view state is not an object"
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "event is not an object"
    return None
