"""Referral messages: the alert, escalations, receipts and status DMs, the no-leads notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.referrals.models import ReferralSummary
from bot.referrals.vocabulary import (
    CATEGORY_LABELS,
    REFER_ON_LABELS,
    URGENCY_LABELS,
    AlertRoute,
    Status,
    Urgency,
    label,
)
from bot.slack.referral_blocks import SECTION_MAX, local_when, state_line
from bot.slack.referral_form import DANGER_LINE
from bot.text.mrkdwn import esc


class AlertOutcome(StrEnum):
    """What happened to a new referral's alert, as the referrer's receipt tells it."""

    CHANNEL = "channel"  # posted in the safeguarding channel
    DIRECT = "direct"  # sent to the safeguarding leads by DM
    RETRYING = "retrying"  # not through yet; the outbox keeps trying
    NOBODY = "nobody"  # there is no safeguarding lead to alert
    UNREACHABLE = "unreachable"  # every lead's DM failed for good


def _prompt_blocks(prompts: Sequence[str]) -> list[Block]:
    if not prompts:
        return []
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="*What the law asks of you next*"))
    ]
    blocks += [SectionBlock(text=MarkdownTextObject(text=p[:SECTION_MAX])) for p in prompts[:20]]
    return blocks


def _no_leads_sentence(reference: str, admins_told: bool) -> str:
    tail = (
        "The admins have been told that nobody is a safeguarding lead."
        if admins_told
        else "Ask an admin to make someone a safeguarding lead in Slack."
    )
    return (
        f"Your safeguarding referral {reference} has been stored, but nobody is set up as "
        "a safeguarding lead in Slack, so no one has been alerted. Contact your "
        f"safeguarding lead by phone now and give them the reference. {tail}"
    )


def receipt_sentence(reference: str, outcome: AlertOutcome, *, admins_told: bool = True) -> str:
    """One true sentence on what happened to the referral and its alert."""
    if outcome == AlertOutcome.CHANNEL:
        return (
            f"Your safeguarding referral {reference} has been received and the safeguarding "
            "leads have been alerted in the safeguarding channel."
        )
    if outcome == AlertOutcome.DIRECT:
        return (
            f"Your safeguarding referral {reference} has been received and the safeguarding "
            "leads have been alerted by direct message."
        )
    if outcome == AlertOutcome.RETRYING:
        return (
            f"Your safeguarding referral {reference} has been received and stored, but the "
            "alert to the safeguarding leads has not gone through yet; it is being retried "
            "automatically. If it is urgent, phone your safeguarding lead now."
        )
    if outcome == AlertOutcome.UNREACHABLE:
        tail = " The admins have been told the alert could not be delivered." if admins_told else ""
        return (
            f"Your safeguarding referral {reference} has been stored, but Slack could not "
            "reach any safeguarding lead, so no one has been alerted. Phone your "
            f"safeguarding lead now and give them the reference.{tail}"
        )
    return _no_leads_sentence(reference, admins_told)


def receipt_text(
    reference: str,
    outcome: AlertOutcome = AlertOutcome.CHANNEL,
    *,
    admins_told: bool = True,
) -> str:
    return f"{receipt_sentence(reference, outcome, admins_told=admins_told)} {DANGER_LINE}"


def build_receipt_blocks(
    reference: str,
    prompts: Sequence[str],
    outcome: AlertOutcome = AlertOutcome.CHANNEL,
    *,
    admins_told: bool = True,
) -> list[Block]:
    """The referrer's DM: the reference, what happened to the alert, the prompts, what next."""
    icon = (
        ":warning:"
        if outcome in (AlertOutcome.RETRYING, AlertOutcome.NOBODY, AlertOutcome.UNREACHABLE)
        else (":white_check_mark:")
    )
    sentence = esc(receipt_sentence(reference, outcome, admins_told=admins_told))
    sentence = sentence.replace(reference, f"*{reference}*", 1)
    return _receipt_blocks(f"{icon} {sentence}", prompts)


def _receipt_blocks(first: str, prompts: Sequence[str]) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=first)),
        SectionBlock(text=MarkdownTextObject(text=f"*{DANGER_LINE}*")),
        *_prompt_blocks(prompts),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You will get a message here when it is acknowledged, assigned, "
                    "referred on or closed. Quote the reference if you follow it up; "
                    "for confidentiality the details are not shown in Slack again."
                )
            ]
        ),
    ]


def build_confirmation_view(
    reference: str,
    prompts: Sequence[str],
    route: AlertRoute = AlertRoute.CHANNEL,
    *,
    admins_told: bool = True,
) -> View:
    """What the modal turns into once the referral is stored (before the alert is sent)."""
    if route == AlertRoute.NOBODY:
        first = f":warning: {esc(_no_leads_sentence(reference, admins_told))}"
        first = first.replace(reference, f"*{reference}*", 1)
    else:
        where = (
            "in the safeguarding channel" if route == AlertRoute.CHANNEL else "by direct message"
        )
        first = (
            f":white_check_mark: Your safeguarding referral *{reference}* has been stored "
            f"and the safeguarding leads are being alerted {where} now. A direct message "
            "to you will confirm it has gone."
        )
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_DONE_MODAL),
        title=PlainTextObject(text="Referral sent"),
        close=PlainTextObject(text="Done"),
        blocks=_receipt_blocks(first, prompts),
    )


def no_leads_text(s: ReferralSummary) -> str:
    """To each admin when a referral arrives and nobody is a safeguarding lead."""
    return (
        f"Safeguarding referral {s.reference} ({label(s.category, CATEGORY_LABELS)}, "
        f"{label(s.urgency, URGENCY_LABELS)}) was raised {local_when(s.created_at, s.zone)}, but "
        "nobody is a safeguarding lead, so no one has been alerted and no one can read it. "
        "Make a lead now with `/csp role @user lead` (or set CSP_SAFEGUARDING_LEADS); "
        "they will be sent the alert. The referrer was told to phone their safeguarding lead."
    )


def build_no_leads_blocks(s: ReferralSummary) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=f":warning: {esc(no_leads_text(s))}"))]


_EVENTS: Final = {
    "acknowledged": "has been acknowledged by {by}",
    "assigned": "has been assigned to a safeguarding lead ({assignee})",
    "referred_on": "has been referred on to {to}",
    "closed": "has been closed by {by}",
}


def status_dm_text(summary: ReferralSummary, event: str, by: str) -> str:
    """The referrer's status-change DM (no contents; the outcome text is not included)."""
    phrase = _EVENTS.get(event, "has been updated by {by}").format(
        by=f"<@{by}>",
        assignee=f"<@{summary.assigned_to}>" if summary.assigned_to else "a lead",
        to=label(summary.referred_on_to or "", REFER_ON_LABELS),
    )
    tail = (
        " Nothing more is needed from you unless a lead asks."
        if event == "closed"
        else " If you learn anything new, tell the safeguarding lead and quote the reference."
    )
    return f"Your safeguarding referral {summary.reference} {phrase}.{tail}"


def assigned_dm_text(summary: ReferralSummary, by: str) -> str:
    return (
        f"<@{by}> has assigned safeguarding referral {summary.reference} "
        f"({label(summary.category, CATEGORY_LABELS)}, {label(summary.urgency, URGENCY_LABELS)}) "
        "to you. Open it with `/csp referrals` (it is in your list of open referrals)."
    )


def alert_text(s: ReferralSummary) -> str:
    return (
        f"Safeguarding referral {s.reference}: {label(s.category, CATEGORY_LABELS)}, "
        f"{label(s.urgency, URGENCY_LABELS)}, raised {local_when(s.created_at, s.zone)}."
    )


def build_alert_blocks(s: ReferralSummary) -> list[Block]:
    """The safeguarding-channel alert: reference, category, urgency, time, state, buttons."""
    icon = ":rotating_light:" if s.urgency == Urgency.IMMEDIATE else ":shield:"
    buttons: list[ButtonElement] = []
    if s.acknowledged_at is None:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Acknowledge"),
                action_id=str(Ids.REFERRAL_ACK),
                value=s.reference,
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(
            text=PlainTextObject(text="View"), action_id=str(Ids.REFERRAL_VIEW), value=s.reference
        )
    )
    if s.status != Status.CLOSED:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Assign"),
                action_id=str(Ids.REFERRAL_ASSIGN),
                value=s.reference,
            )
        )
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{icon} *Safeguarding referral {s.reference}*\n"
                f"*Category:* {label(s.category, CATEGORY_LABELS)}\n"
                f"*Urgency:* {label(s.urgency, URGENCY_LABELS)}\n"
                f"*Raised:* {local_when(s.created_at, s.zone)}"
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=state_line(s))]),
        ActionsBlock(elements=buttons),
    ]


# --------------------------------------------------------------------------- escalation


def waited_for(raised: dt.datetime, now: dt.datetime) -> str:
    """How long a referral has waited, in the largest sensible unit: "45 minutes",
    "5 hours", "3 days"."""
    minutes = max(0, int((now - raised).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def escalation_text(reference: str, category: str, urgency: str, waited: str) -> str:
    return (
        f"Safeguarding referral {reference} ({label(category, CATEGORY_LABELS)}, "
        f"{label(urgency, URGENCY_LABELS)}) is still not acknowledged, {waited} after it "
        "was raised. A safeguarding lead should acknowledge or assign it now."
    )


def build_escalation_blocks(
    reference: str, category: str, urgency: str, waited: str
) -> list[Block]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":warning: *{reference}* ({label(category, CATEGORY_LABELS)}, "
                f"{label(urgency, URGENCY_LABELS)}) is still not acknowledged, {waited} "
                "after it was raised.\nA safeguarding lead should acknowledge it or assign "
                "it to a lead now: use the buttons below or `/csp referrals`."
            )
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Acknowledge"),
                    action_id=str(Ids.REFERRAL_ACK),
                    value=reference,
                    style="primary",
                ),
                ButtonElement(
                    text=PlainTextObject(text="View"),
                    action_id=str(Ids.REFERRAL_VIEW),
                    value=reference,
                ),
            ]
        ),
    ]
