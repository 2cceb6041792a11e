"""What Slack would send the app from the shell: slash commands, clicks, form submissions, App Home.

Each is built the way Slack builds it and sent to the Bolt app in-process as a
request signed with the shell's own signing secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.slack.text_render import ButtonRef
from handlers.shell.fake_slack import TEAM_ID

# The shell's requests come from the workspace its local Slack answers auth.test with,
# so the app's workspace check lets them through as it would real Slack's.
APP_ID = "ASHELL"


def dispatch(app: App, secret: str, body: str, content_type: str) -> tuple[int, str]:
    """Sign ``body`` with ``secret`` as Slack does, hand it to ``app``; its HTTP answer."""
    ts = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    request = BoltRequest(
        body=body,
        headers={
            "content-type": [content_type],
            "x-slack-request-timestamp": [ts],
            "x-slack-signature": [f"v0={signature}"],
        },
    )
    response = app.dispatch(request)
    return response.status, str(response.body or "")


def slash_command(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command typed in ``channel_id``."""
    return {
        "team_id": TEAM_ID,
        "team_domain": "shell",
        "channel_id": channel_id,
        "channel_name": "shell",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def home_opened(user_id: str, event_id: str) -> dict[str, Any]:
    """The Events API callback for ``user_id`` opening the App Home tab."""
    return {
        "type": "event_callback",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user_id, "tab": "home"},
    }


def click(
    button: ButtonRef,
    view: Mapping[str, Any] | None,
    *,
    user_id: str,
    channel_id: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """The ``block_actions`` payload of a click on ``button``, in ``view`` or (None) in
    a message in ``channel_id``."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "shell"},
        "user": {"id": user_id, "username": user_id.lower()},
        "api_app_id": APP_ID,
        "trigger_id": trigger_id,
        "actions": [
            {
                "type": "button",
                "action_id": button.action_id,
                "block_id": button.block_id or "b",
                "value": button.value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if view is None:
        payload["response_url"] = response_url
        payload["channel"] = {"id": channel_id, "name": "shell"}
        payload["container"] = {"type": "message", "channel_id": channel_id}
    else:
        view_id = str(view.get("id", ""))
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {
            "id": view_id,
            "hash": view.get("hash", ""),
            "type": view.get("type", "modal"),
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": {}},
            "title": view.get("title"),
            "blocks": view.get("blocks", []),
        }
    return payload


def submission(
    view: Mapping[str, Any], values: dict[str, Any], *, user_id: str, trigger_id: str
) -> dict[str, Any]:
    """The ``view_submission`` payload of ``view`` filled in with ``values``."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "shell"},
        "user": {"id": user_id, "username": user_id.lower()},
        "api_app_id": APP_ID,
        "trigger_id": trigger_id,
        "view": {
            "id": view.get("id", "VSHELL"),
            "hash": view.get("hash", ""),
            "type": "modal",
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": values},
            "title": view.get("title"),
            "blocks": view.get("blocks", []),
            # A pushed view names the views under it, as Slack's payloads do.
            "root_view_id": view.get("root_view_id") or view.get("id", "VSHELL"),
            "previous_view_id": view.get("previous_view_id"),
        },
    }
