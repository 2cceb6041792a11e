"""Only our workspace: the team, enterprise and app pinned from auth.test, the rest refused.

The signing secret proves a request came through Slack, not that it came from the
partnership's own workspace: a distributed app, a shared channel or a leaked secret
can bring requests from other teams. A global middleware compares the request's
``team_id``, ``enterprise_id`` and ``api_app_id`` with the pinned ones and refuses
any other, before any listener or database work, with a log record naming only the
ids and the kind of request.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest

from bot.settings import Settings
from bot.slack.blocks import build_message_modal

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Z0-9]{2,32}")
_KINDS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "event_callback",
    }
)
REFUSAL = (
    "This bot answers only the Slack workspace its partnership installed it in, so "
    "nothing was done. Use the partnership's own workspace, or ask its admin."
)


@dataclass(frozen=True)
class Workspace:
    """The team, the enterprise (None outside Enterprise Grid) and, when known, the app."""

    team_id: str
    enterprise_id: str | None = None
    app_id: str | None = None

    @classmethod
    def from_auth_test(cls, answer: Mapping[str, Any], settings: Settings) -> Workspace:
        """From an ``auth.test`` answer. auth.test names no app for a bot token, so the
        app id is its ``app_id`` when given, else the one in SLACK_APP_TOKEN
        (``xapp-1-<app id>-...``), else unpinned."""
        app_id = answer.get("app_id") or _app_id_of_token(settings)
        return cls(
            team_id=str(answer.get("team_id") or ""),
            enterprise_id=str(answer.get("enterprise_id") or "") or None,
            app_id=str(app_id) if app_id else None,
        )


def _app_id_of_token(settings: Settings) -> str | None:
    token = settings.slack_app_token
    if token is None:
        return None
    parts = token.get_secret_value().split("-")
    if len(parts) > 2 and parts[0] == "xapp" and _ID.fullmatch(parts[2]):
        return parts[2]
    return None


def _shown(value: object) -> str:
    """An id for the log: itself when it looks like a Slack id, never free text."""
    if value is None or value == "":
        return "-"
    return str(value) if _ID.fullmatch(str(value)) else "(not an id)"


def _teams(body: Mapping[str, Any], context: BoltContext) -> set[str]:
    """Every team the request names: Bolt's pick (which prefers the view's
    ``app_installed_team_id``) and the request's, the team's and the user's own."""
    team = body.get("team")
    user = body.get("user")
    view = body.get("view")
    named = {
        context.team_id,
        body.get("team_id"),
        team.get("id") if isinstance(team, dict) else team,
        user.get("team_id") if isinstance(user, dict) else None,
        view.get("team_id") if isinstance(view, dict) else None,
    }
    return {str(t) for t in named if t}


def foreign(ours: Workspace, body: Mapping[str, Any], context: BoltContext) -> bool:
    """Whether the request names a team, enterprise or app other than ours (a person
    from another team in a shared channel included)."""
    if _teams(body, context) - {ours.team_id}:
        return True
    enterprise = context.enterprise_id or None
    if enterprise != ours.enterprise_id and enterprise is not None:
        return True
    app_id = body.get("api_app_id")
    return bool(ours.app_id and app_id and app_id != ours.app_id)


def _refusal(body: Mapping[str, Any]) -> BoltResponse:
    if "command" in body:
        payload: dict[str, Any] = {"response_type": "ephemeral", "text": REFUSAL}
    elif body.get("type") == "view_submission":
        payload = {"response_action": "update", "view": build_message_modal("Not here", REFUSAL)}
    else:
        return BoltResponse(status=200, body="")
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def _pinned_by_bolt(context: BoltContext) -> Workspace | None:
    """The workspace from Bolt's own auth.test (made on the first request) when the
    app was built without a pinned one."""
    result = context.authorize_result
    if result is None or not result.team_id:
        return None
    return Workspace(team_id=result.team_id, enterprise_id=result.enterprise_id or None)


class _WorkspaceGuard(Middleware):
    """The guard as a Bolt middleware object: called with the request itself, so it costs
    no argument matching on every request."""

    def __init__(self, pinned: Workspace | None) -> None:
        self.pinned = pinned

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body, context = req.body, req.context
        ours = self.pinned or _pinned_by_bolt(context)
        if ours is None or not foreign(ours, body, context):
            return next()
        kind = body.get("type")
        log.warning(
            "refused a %s from another workspace (team %s, enterprise %s, app %s, user %s)",
            "slash command" if "command" in body else kind if kind in _KINDS else "request",
            _shown(context.team_id),
            _shown(context.enterprise_id),
            _shown(body.get("api_app_id")),
            _shown(context.user_id),
        )
        return _refusal(body)


def install_workspace_guard(app: App, pinned: Workspace | None) -> None:
    """Refuse requests from anywhere but ``pinned`` (or, without it, the workspace of
    the bot token, as auth.test answered Bolt)."""
    app.use(_WorkspaceGuard(pinned))
