"""Delivery-failure Block Kit: the note admins get when a message could not be sent for good.

The builders take a frozen read model and return blocks; no I/O, no ORM objects. Data
written into mrkdwn or message text goes through :func:`bot.text.mrkdwn.esc`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.slack.notice_text import clip
from bot.text.mrkdwn import esc, esc_code


@dataclass(frozen=True)
class DeliveryFailureView:
    reason: str
    target: str
    kind: str
    failed_at: dt.datetime


_REASONS = {
    "channel_not_found": "the channel does not exist any more (or the bot cannot see it)",
    "not_in_channel": "the bot is not a member of the channel",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "account_inactive": "the Slack account is deactivated",
    "user_not_found": "the Slack user does not exist",
    "user_disabled": "the Slack user is disabled",
    "cannot_dm_bot": "the target is a bot, which cannot get direct messages",
    "invalid_auth": "the bot's token is not valid",
    "not_authed": "the bot's token is missing",
    "token_revoked": "the bot's token was revoked",
    "missing_scope": "the app is missing a permission (scope)",
}


def failure_text(view: DeliveryFailureView) -> str:
    why = _REASONS.get(view.reason) or esc(view.reason)
    return f"A {_kind_name(view.kind)} message to {_target(view.target)} could not be sent: {why}."


def _target(target: str) -> str:
    if target[:1] in ("C", "G") and target.isalnum():
        return f"<#{target}>"
    if target[:1] in ("U", "W") and target.isalnum():
        return f"<@{target}>"
    return esc(target)


_KIND_NAMES = {
    "referral_alert": "safeguarding referral alert",
    "referral_escalation": "safeguarding referral escalation",
    "referral_alert_dm": "safeguarding referral alert (direct message)",
    "referral_no_leads": "safeguarding referral (no leads set up)",
}


def _kind_name(kind: str) -> str:
    """The message kind in plain words ("safeguarding referral alert", "deadline")."""
    return _KIND_NAMES.get(kind) or esc(kind.replace("_", " "))


def _referral_fix(reason: str) -> str:
    if reason in ("account_inactive", "user_not_found", "user_disabled", "cannot_dm_bot"):
        return (
            "Check the list of safeguarding leads: remove anyone who has left from "
            "CSP_SAFEGUARDING_LEADS, and give someone current the lead role with "
            "`/csp role @person lead`."
        )
    if reason == "not_in_channel":
        return (
            "Invite the bot to the safeguarding channel (`/invite @csp-bot`) so referral "
            "alerts reach the leads."
        )
    if reason in ("channel_not_found", "is_archived", "channel_is_archived"):
        return (
            "Set CSP_SAFEGUARDING_CHANNEL to a private channel the leads use, invite the bot "
            "to it, and restart the bot."
        )
    return (
        "Fix the cause so referral alerts reach the leads. Until then, check new referrals "
        "with `/csp referrals`."
    )


def build_delivery_failure_blocks(view: DeliveryFailureView) -> list[Block]:
    why = _REASONS.get(view.reason) or f"Slack answered `{esc_code(view.reason)}`"
    if view.kind.startswith("referral"):
        fix = _referral_fix(view.reason)
    else:
        fix = {
            "not_in_channel": "Invite the bot to the channel (`/invite @csp-bot`).",
            "channel_not_found": "Check CSP_PARTNERSHIP_CHANNEL and that the bot is in it.",
            "is_archived": "Unarchive the channel or point CSP_PARTNERSHIP_CHANNEL at another one.",
            "account_inactive": "Give the objective a new owner with `/csp owner`.",
            "user_not_found": "Give the objective a new owner with `/csp owner`.",
        }.get(view.reason, "Fix the cause; new messages will be tried as usual.")
    text = (
        f":warning: *A {_kind_name(view.kind)} message to {_target(view.target)} "
        f"could not be sent*: {why}.\n{fix} I will not retry this one, and I tell admins once "
        "per cause."
    )
    return [SectionBlock(block_id="delivery_failed", text=MarkdownTextObject(text=clip(text)))]
