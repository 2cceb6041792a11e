"""Buttons on reminders: Snooze 1 week and Mark done (owners and admins).

Database work is committed before ``ack()`` (so the write turn ends before any Slack
call); the click then updates the original message with ``chat.update`` so everyone in
the channel sees the current state. Mark done closes exactly the dated item the reminder
was about (its button carries the schedule item and its due date); clicking it again, or
on an older copy, changes nothing and says who closed it and when. A member who
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
from bot.plan.done import mark_done_result, snooze
from bot.slack.reminders import DoneTarget, build_resolved_blocks, parse_done_value
from bot.text.mrkdwn import esc
from bot.time.words import short_date
from handlers.uow import unit_of, unit_of_work

log = logging.getLogger(__name__)

SNOOZE = dt.timedelta(weeks=1)


def register(app: App, ctx: AppContext) -> None:
    app.action(Ids.REMINDER_SNOOZE)(unit_of_work(on_snooze))
    app.action(Ids.REMINDER_DONE)(unit_of_work(on_done))


def _objective_id(body: dict[str, Any]) -> int:
    return _done_target(body).objective_id


def _done_target(body: dict[str, Any]) -> DoneTarget:
    try:
        return parse_done_value(str(body["actions"][0].get("value") or ""))
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
    snooze(unit.session, unit.partnership, unit.me, objective_id, until, now=unit.now)
    unit.commit()  # end the write turn before any Slack call
    ack()
    local = until.astimezone(ZoneInfo(unit.partnership.timezone))
    _update_message(
        client,
        body,
        f":zzz: Snoozed by <@{unit.me.slack_user_id}> until {short_date(local, with_year=False)}. "
        "Reminders start again then.",
    )


def on_done(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    unit = unit_of(context)
    target = _done_target(body)
    if target.item_id is None and target.due_on is None:
        raise UserError(
            "This reminder does not say which date it is for, so I have not closed anything. "
            "See what is open with `/csp due`, then close the right one with "
            "`/csp progress <objective> done`."
        )
    if target.item_id is None:
        raise UserError(
            "That date is no longer in the plan, so I have not closed anything. See what "
            "is open with `/csp due`, then use `/csp progress <objective> done`."
        )
    result = mark_done_result(
        unit.session,
        unit.partnership,
        unit.me,
        target.objective_id,
        now=unit.now,
        note="Marked done from a reminder.",
        item_id=target.item_id,
    )
    unit.commit()  # end the write turn before any Slack call
    ack()
    if result.already_done:
        _update_message(
            client,
            body,
            f":white_check_mark: This date was {result.already_text}; nothing more to do. "
            "Add detail any time with `/csp progress`.",
        )
        return
    closed = "the objective is closed" if result.summary.status != "open" else "this date is met"
    what = f" ({esc(result.closed_label)})" if result.closed_label else ""
    _update_message(
        client,
        body,
        f":white_check_mark: Marked done by <@{unit.me.slack_user_id}>{what}; {closed}. "
        "Add detail any time with `/csp progress`.",
    )
