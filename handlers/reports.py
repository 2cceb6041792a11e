"""`/csp report [quarter]`: the scrutiny pack, made after the ack and sent to the admin by DM.

The ack answers at once (Slack's 3 seconds); the pack is then built, uploaded with
``files_upload_v2`` into the admin's direct message with the app, and the admin is
told through the command's response URL what happened and where the file went.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import NotAllowed, UsageError, UserError
from bot.reports.files import PackFile, make_pack
from bot.text import commands as cmd
from bot.text.help import USAGE
from bot.text.mrkdwn import esc
from bot.time.quarters import Quarter, QuarterError, parse_quarter, quarter_of
from handlers.uow import Unit

log = logging.getLogger(__name__)


def chosen_quarter(parsed: cmd.Report, unit: Unit) -> Quarter:
    """The quarter asked for (or the current one), refused kindly if it is unreadable or
    has not begun."""
    today = unit.today
    if parsed.quarter is None:
        return quarter_of(today)
    try:
        quarter = parse_quarter(parsed.quarter)
    except QuarterError as exc:
        raise UsageError(esc(str(exc)), USAGE["report"]) from None
    if quarter.start > today:
        current = quarter_of(today)
        raise UsageError(
            f"{quarter.label} ({quarter.months}) has not started yet, so there is nothing "
            f"to report. Try `/csp report {current.code}` for the current quarter.",
            USAGE["report"],
        )
    return quarter


def send_report(
    parsed: cmd.Report, unit: Unit, *, ack: Ack, context: BoltContext, client: WebClient
) -> None:
    """Refuse members; otherwise ack, make the pack and send it to the admin's DM."""
    if not unit.me.is_admin:
        raise NotAllowed(
            "Only partnership admins can make the scrutiny pack. Ask an admin to run "
            "`/csp report` and share it with you; `/csp plan` and `/csp due` show the "
            "plan's position meanwhile."
        )
    quarter = chosen_quarter(parsed, unit)
    user_id = unit.me.slack_user_id
    unit.commit()
    ack(
        text=(
            f"Making the scrutiny pack for {quarter.label} ({quarter.months}). I will send "
            "it to you in a direct message in a moment."
        ),
        response_type="ephemeral",
    )
    try:
        pack = make_pack(unit.session, unit.read_partnership, quarter, "docx", now=unit.now)
    except UserError as exc:
        _tell(context, str(exc))
        return
    _tell(context, _deliver(client, user_id, pack))


def _deliver(client: WebClient, user_id: str, pack: PackFile) -> str:
    """Upload ``pack`` to ``user_id``'s direct message; the sentence saying how it went."""
    period = pack.report.period
    again = f"`/csp report {pack.report.quarter.code}`"
    try:
        opened = client.conversations_open(users=user_id)
        channel = str((opened.get("channel") or {}).get("id") or "")
        done = client.files_upload_v2(
            channel=channel,
            file=pack.data,
            filename=pack.filename,
            title=f"Scrutiny pack, {period}",
            initial_comment=f"The scrutiny pack for {esc(period)}, as at "
            f"{pack.report.as_at.day} {pack.report.as_at:%B %Y}.",
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "an error")
        log.warning("scrutiny pack upload refused by Slack: %s", error)
        hint = (
            "The app needs the `files:write` scope: add it (see docs/slack-setup.md), "
            "reinstall the app, then type "
            if error in ("missing_scope", "not_allowed_token_type", "no_permission")
            else "Please try again in a few minutes: type "
        )
        return (
            f"I made the scrutiny pack for {esc(period)} but could not send it to you: "
            f"Slack answered `{esc(error)}`. {hint}{again}."
        )
    except (SlackClientError, OSError) as exc:
        log.warning("scrutiny pack upload failed: %s", type(exc).__name__)
        return (
            f"I made the scrutiny pack for {esc(period)} but could not reach Slack to send "
            f"it to you. Please try again in a few minutes: type {again}. An operator can "
            f"also make it with `csp-bot report --quarter {pack.report.quarter.code}`."
        )
    shared = done.get("file") or {}
    link = str(shared.get("permalink") or "") if isinstance(shared, dict) else ""
    name = f"<{link}|{esc(pack.filename)}>" if link else f"*{esc(pack.filename)}*"
    return (
        f"Done: the scrutiny pack for {esc(period)} is in your direct messages with me: "
        f"{name} ({len(pack.data) // 1024 + 1} KB). Open it there to download or share it."
    )


def _tell(context: BoltContext, text: str) -> None:
    """Say ``text`` to whoever asked, after the ack (only they see it)."""
    respond = context.respond
    if respond is None:
        log.warning("no response URL to report the scrutiny pack's outcome")
        return
    try:
        respond(text=text, response_type="ephemeral", replace_original=False)
    except (SlackClientError, OSError) as exc:
        log.warning("could not tell the admin about the scrutiny pack: %s", type(exc).__name__)
