"""Buttons on reminders: Snooze 1 week and Mark done (owners and admins).

Database work happens before ``ack()``; the click then updates the original message
with ``chat.update`` so everyone in the channel sees the current state. A member who
is neither an owner nor an admin gets the plan's kind NotAllowed sentence (through the
app's error handler) and the message is left as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.errors import UserError
from bot.ids import Ids
from bot.plan import mark_done, snooze
from bot.reminder_views import build_resolved_blocks
from handlers.app import unit_of

log = logging.getLogger(__name__)

SNOOZE = dt.timedelta(weeks=1)


def register(app: App, ctx: AppContext) -> None:
    app.action(Ids.REMINDER_SNOOZE)(on_snooze)
    app.action(Ids.REMINDER_DONE)(on_done)


def _objective_id(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0].get("value") or "")
    except (KeyError, IndexError, ValueError):
        raise UserError(
            "That button has lost track of its objective. Use `/csp due` to find it, then "
            "`/csp progress <objective> done`."
        ) from None


def _update_message(client: WebClient, body: dict[str, Any], state_line: str) -> None:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    if not channel or not ts:
        return
    try:
        client.chat_update(
            channel=channel,
            ts=ts,
            text=f"{message.get('text') or 'Reminder'} ({state_line})",
            blocks=build_resolved_blocks(message.get("blocks") or [], state_line),
        )
    except Exception:
        log.warning("could not update the reminder message in %s", channel, exc_info=True)


def on_snooze(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    unit = unit_of(context)
    objective_id = _objective_id(body)
    until = unit.now + SNOOZE
    snooze(unit.session, unit.partnership, unit.me, objective_id, until)
    ack()
    local = until.astimezone(ZoneInfo(unit.partnership.timezone))
    _update_message(
        client,
        body,
        f":zzz: Snoozed by <@{unit.me.slack_user_id}> until {local.strftime('%a %-d %b')}. "
        "Reminders start again then.",
    )


def on_done(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    unit = unit_of(context)
    objective_id = _objective_id(body)
    summary = mark_done(
        unit.session,
        unit.partnership,
        unit.me,
        objective_id,
        now=unit.now,
        note="Marked done from a reminder.",
    )
    ack()
    closed = "the objective is closed" if summary.status != "open" else "this date is met"
    _update_message(
        client,
        body,
        f":white_check_mark: Marked done by <@{unit.me.slack_user_id}>; {closed}. "
        "Add detail any time with `/csp progress`.",
    )
