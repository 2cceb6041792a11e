"""The app's one error handler: a kind reply for user errors, a reference id in the log otherwise.

A failure before the ack is answered in the ack itself (the ephemeral reply to a
command, or the modal redrawn with the message); after the ack, through the
request's response URL or a message to the user. An unexpected error says whether
part of the request may already be saved.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.errors import UsageError, UserError
from bot.slack.blocks import build_message_modal
from bot.text.mrkdwn import esc
from handlers.uow import request_unit, requester_id
from store.db import is_database_busy

log = logging.getLogger(__name__)

BUSY_REPLY = (
    "The plan's database is busy just now (another task, such as a plan import, is "
    "saving), so nothing was saved. Please try again in a minute."
)


def install_error_handler(app: App, client: WebClient) -> None:
    """Answer every listener failure on ``app``; later replies go through ``client``."""

    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        context: BoltContext,
        request: BoltRequest,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        if isinstance(error, UserError):
            text = _kind_reply(error)
            log.debug("user error: %s", type(error).__name__)
        elif is_database_busy(error) and not _committed(context):
            # Rolled back before Slack's deadline: say so plainly, no traceback.
            log.warning("database busy: a request gave up waiting for the write lock")
            text = BUSY_REPLY
        else:
            reference = secrets.token_hex(3)
            log.error("unexpected error (reference %s)", reference, exc_info=error)
            unit = request_unit(context)
            saved = unit is not None and unit.committed
            outcome = (
                "Part of it may already be saved, so check (for example with `/csp show` or "
                "`/csp referrals`) before trying again"
                if saved
                else "Nothing was saved. Please try again in a minute"
            )
            text = (
                f"Something went wrong on our side (reference {reference}). {outcome}; if it "
                "keeps happening, give your partnership admin this reference."
            )
        acked = context.ack is not None and context.ack.response is not None
        kind = body.get("type")
        if response is not None and not acked:
            if kind == "view_submission":
                payload: dict[str, Any] = {
                    "response_action": "update",
                    "view": build_message_modal("Sorry", text),
                }
                return _json_response(payload)
            if "command" in body:
                return _json_response({"response_type": "ephemeral", "text": text})
        _tell_later(client, body, context, text)
        if acked and context.ack is not None and context.ack.response is not None:
            # Work after the ack failed; if Bolt has not answered Slack yet, answer with
            # the ack that was given (otherwise Slack would see a 404 and an error).
            return context.ack.response
        if response is not None:
            return BoltResponse(status=200, body="")
        return None


def _committed(context: BoltContext) -> bool:
    unit = request_unit(context)
    return unit is not None and unit.committed


def _kind_reply(error: Exception) -> str:
    if isinstance(error, UsageError):
        usage = esc(error.usage)
        return f"{error}\nUsage: `{usage}`\nType `/csp help` to see every command."
    return f"{error}\nType `/csp help` if you need the list of commands."


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def _tell_later(client: WebClient, body: dict[str, Any], context: BoltContext, text: str) -> None:
    """Tell the user about an error when the request was already answered."""
    try:
        url = body.get("response_url") or context.response_url
        if url:
            WebhookClient(str(url)).send(
                text=text, response_type="ephemeral", replace_original=False
            )
            return
        user_id = requester_id(body, context)
        if not user_id or body.get("type") == "event_callback":
            return
        channel = context.channel_id
        if channel and not channel.startswith("D"):
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.exception("could not tell the user about an error")
