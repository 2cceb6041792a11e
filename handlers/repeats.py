"""Keys for the writes a person can repeat: a resubmitted view, a redelivered or retyped command.

A modal submission is keyed by its view's id and hash (the same version of the same
view submitted again). A slash command is keyed by its Socket Mode envelope id when
the request carries one, and otherwise (Bolt's adapters hand listeners the payload
only) by who typed what in which minute: a command redelivered, or retyped after an
answer that seemed to fail, within the minute is the same request. The previous
minute's key is looked up too, so a retype across a minute boundary is still found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.plan.progress import request_key


def view_keys(view: Mapping[str, Any]) -> tuple[str, ...]:
    """The key of a view submission (empty when Slack sent no id or hash)."""
    view_id, version = view.get("id"), view.get("hash")
    if not view_id or not version:
        return ()
    return (request_key("view", str(view_id), str(version)),)


def command_keys(body: Mapping[str, Any], now: dt.datetime) -> tuple[str, ...]:
    """The keys of a slash command: the one to store first, then earlier ones to look for."""
    envelope = body.get("envelope_id")
    if envelope:
        return (request_key("envelope", str(envelope)),)
    user = str(body.get("user_id") or "")
    if not user:
        return ()
    team = str(body.get("team_id") or "")
    command = str(body.get("command") or "")
    text = " ".join(str(body.get("text") or "").split())
    minute = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return tuple(
        request_key("command", team, user, command, text, at.isoformat())
        for at in (minute, minute - dt.timedelta(minutes=1))
    )
