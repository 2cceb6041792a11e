"""Pure Block Kit builders for safeguarding referrals.

Only :func:`build_detail_view` carries referral contents, and it is shown only
in a safeguarding lead's modal; contents are rendered as ``plain_text`` so no
mention, link or formatting typed into a referral is ever interpreted. Every
other builder here takes contents-free read models (reference, category,
urgency, times, states).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.referrals.core import (
    CATEGORY_LABELS,
    CONSENT_LABELS,
    GROUP_LABELS,
    REFER_ON_LABELS,
    STATUS_LABELS,
    TEXT_FIELDS,
    URGENCY_LABELS,
    AlertRoute,
    Category,
    Consent,
    LeadHomeReferrals,
    ReferOn,
    ReferralDetail,
    ReferralSummary,
    Status,
    StatusChange,
    SubjectGroup,
    Urgency,
    label,
)
from bot.text.mrkdwn import esc

DANGER_LINE: Final = "If anyone is in immediate danger, call 999 now."
SECTION_MAX: Final = 3000
MODAL_BLOCKS_MAX: Final = 100
MESSAGE_BLOCKS_MAX: Final = 50
CONSENT_REASON_LABEL: Final = (
    "Lawful reason for sharing without consent (required if consent was not sought or was refused)"
)
CONSENT_REASON_HINT: Final = (
    "Required if consent was not sought or was refused: say why sharing is lawful "
    "(e.g. a child at risk of significant harm). Leave empty if consent was given."
)
ERROR_MAX: Final = 300

_MENTION: Final = re.compile(r"<[@#!][^>|]*(?:\|([^>]*))?>")
_LINK: Final = re.compile(r"<([^>|]+)\|([^>]+)>")


def plain_error(text: str, limit: int = ERROR_MAX) -> str:
    """``text`` fit for a modal's ``response_action: errors`` (Slack shows it as plain text).

    Mentions become "that person" (or their label), links their label, and mrkdwn's
    code and bold marks are dropped; the result is cut to ``limit`` at a word.
    """
    out = _MENTION.sub(lambda m: m.group(1) or "that person", text)
    out = _LINK.sub(lambda m: m.group(2), out)
    out = out.replace("`", "").replace("*", "")
    out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = " ".join(out.split())
    out = out[:1].upper() + out[1:]
    if len(out) > limit:
        out = out[: limit - 1].rsplit(" ", 1)[0] + "…"
    return out


def _when(at: dt.datetime, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _options(labels: Mapping[Any, str], values: Sequence[str]) -> list[Option]:
    return [Option(value=str(v), text=PlainTextObject(text=labels[v])) for v in values]


def _text_input(
    field: str, title: str, *, multiline: bool = False, hint: str | None = None
) -> InputBlock:
    block_id, limit, required = TEXT_FIELDS[field]
    return InputBlock(
        block_id=str(block_id),
        label=PlainTextObject(text=title),
        element=PlainTextInputElement(
            action_id=str(block_id), multiline=multiline, max_length=limit
        ),
        optional=not required,
        hint=PlainTextObject(text=hint) if hint else None,
    )


# --------------------------------------------------------------------------- the form


def build_referral_form_blocks() -> list[Block]:
    """The referral modal's blocks; the first says to call 999 in an emergency."""
    blocks: list[Block] = [
        SectionBlock(
            block_id=str(Ids.REFERRAL_DANGER),
            text=MarkdownTextObject(text=f":rotating_light: *{DANGER_LINE}*"),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Only safeguarding leads can read what you write here. "
                    "You will get a reference by direct message."
                )
            ]
        ),
        InputBlock(
            block_id=str(Ids.REFERRAL_GROUP),
            label=PlainTextObject(text="Child or adult"),
            element=RadioButtonsElement(
                action_id=str(Ids.REFERRAL_GROUP),
                options=_options(GROUP_LABELS, list(SubjectGroup)),
            ),
        ),
        InputBlock(
            block_id=str(Ids.REFERRAL_CATEGORY),
            label=PlainTextObject(text="Category"),
            element=StaticSelectElement(
                action_id=str(Ids.REFERRAL_CATEGORY),
                placeholder=PlainTextObject(text="Choose a category"),
                options=_options(CATEGORY_LABELS, list(Category)),
            ),
        ),
        InputBlock(
            block_id=str(Ids.REFERRAL_URGENCY),
            label=PlainTextObject(text="Urgency"),
            element=RadioButtonsElement(
                action_id=str(Ids.REFERRAL_URGENCY), options=_options(URGENCY_LABELS, list(Urgency))
            ),
        ),
        _text_input("subject_name", "Their name", hint="Write 'not known' if you do not know it."),
        InputBlock(
            block_id=str(Ids.REFERRAL_DOB),
            label=PlainTextObject(text="Date of birth"),
            element=DatePickerElement(action_id=str(Ids.REFERRAL_DOB)),
            optional=True,
        ),
        _text_input("subject_age", "Approximate age", hint="If you do not know the date of birth."),
        _text_input("subject_address", "Address"),
        _text_input("subject_location", "Where they are now"),
        _text_input("what_happened", "What happened", multiline=True),
        _text_input("when_happened", "When"),
        _text_input("where_happened", "Where"),
        _text_input(
            "how_known",
            "How you know",
            multiline=True,
            hint="Seen, told by them, told by others...",
        ),
        _text_input("referrer_role", "Your role"),
        _text_input("referrer_agency", "Your agency"),
        _text_input("referrer_contact", "How a lead can reach you", hint="Phone or email."),
        InputBlock(
            block_id=str(Ids.REFERRAL_CONSENT),
            label=PlainTextObject(text="Consent to share"),
            element=RadioButtonsElement(
                action_id=str(Ids.REFERRAL_CONSENT), options=_options(CONSENT_LABELS, list(Consent))
            ),
        ),
        _text_input(
            "consent_reason",
            CONSENT_REASON_LABEL,
            multiline=True,
            hint=CONSENT_REASON_HINT,
        ),
        _text_input("actions_taken", "Actions already taken", multiline=True),
    ]
    return blocks


def build_referral_form_view() -> View:
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_MODAL),
        title=PlainTextObject(text="Safeguarding referral"),
        submit=PlainTextObject(text="Send referral"),
        close=PlainTextObject(text="Cancel"),
        blocks=build_referral_form_blocks(),
    )


# --------------------------------------------------------------------------- receipts


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
        f"{label(s.urgency, URGENCY_LABELS)}) was raised {_when(s.created_at, s.zone)}, but "
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


# --------------------------------------------------------------------------- channel alert


def _state_line(s: ReferralSummary) -> str:
    if s.status == Status.CLOSED and s.closed_at:
        return f"Closed {_when(s.closed_at, s.zone)}"
    parts: list[str] = []
    if s.acknowledged_at and s.acknowledged_by:
        parts.append(f"Acknowledged by <@{s.acknowledged_by}> {_when(s.acknowledged_at, s.zone)}")
    if s.assigned_to:
        parts.append(f"Assigned to <@{s.assigned_to}>")
    if s.status == Status.REFERRED_ON:
        parts.append("Referred on")
    return " · ".join(parts) if parts else ":hourglass: Awaiting acknowledgement"


def alert_text(s: ReferralSummary) -> str:
    return (
        f"Safeguarding referral {s.reference}: {label(s.category, CATEGORY_LABELS)}, "
        f"{label(s.urgency, URGENCY_LABELS)}, raised {_when(s.created_at, s.zone)}."
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
                f"*Raised:* {_when(s.created_at, s.zone)}"
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_state_line(s))]),
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


# --------------------------------------------------------------------------- leads' list


def row_buttons(s: ReferralSummary) -> list[ButtonElement]:
    """The buttons that fit a referral's state: Acknowledge while unacknowledged,
    Assign while open, and always View."""
    buttons: list[ButtonElement] = []
    if s.acknowledged_at is None and s.status != Status.CLOSED:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Acknowledge"),
                action_id=str(Ids.REFERRAL_ACK),
                value=s.reference,
                style="primary",
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
    buttons.append(
        ButtonElement(
            text=PlainTextObject(text="View"), action_id=str(Ids.REFERRAL_VIEW), value=s.reference
        )
    )
    return buttons


def build_referral_list_blocks(summaries: Sequence[ReferralSummary]) -> list[Block]:
    """`/csp referrals` for a lead: one row per open referral with the buttons that fit."""
    if not summaries:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="There are no open safeguarding referrals. New ones appear in the "
                    "safeguarding channel as they arrive."
                )
            )
        ]
    shown = summaries[: (MESSAGE_BLOCKS_MAX - 3) // 2]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Open safeguarding referrals ({len(summaries)})"))
    ]
    for s in shown:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{s.reference}* · {label(s.category, CATEGORY_LABELS)} · "
                    f"{label(s.urgency, URGENCY_LABELS)} · raised {_when(s.created_at, s.zone)}\n"
                    f"{_state_line(s)}"
                )
            )
        )
        blocks.append(ActionsBlock(block_id=f"refrow:{s.reference}", elements=row_buttons(s)))
    if len(summaries) > len(shown):
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{len(summaries) - len(shown)} more not shown; close finished "
                        "referrals to shorten the list."
                    )
                ]
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Acknowledge stops the escalation reminders; View shows the details "
                    "and lets you refer on, add a case note or close."
                )
            ]
        )
    )
    return blocks


# --------------------------------------------------------------------------- confirmations


def confirmation_text(change: StatusChange) -> str:
    """What a lead is told after a workflow step: what happened, and what is next."""
    s = change.summary
    ref = s.reference
    told = " The referrer has been told." if change.changed else ""
    if change.event == "acknowledged":
        if not change.changed:
            by = f" by <@{s.acknowledged_by}>" if s.acknowledged_by else ""
            at = ""
            if s.acknowledged_at is not None:
                local = s.acknowledged_at.astimezone(ZoneInfo(s.zone))
                at = f" at {local:%H:%M} on {local:%a} {local.day} {local:%b}"
            return (
                f"{ref} was already acknowledged{by}{at}; nothing changed and the referrer "
                "was not told again. Next: assign it to a lead, or open it with View to "
                "refer it on, add a note or close it."
            )
        return (
            f"You acknowledged {ref}; the escalation reminders have stopped.{told} "
            "Next: assign it to a lead, or open it with View to refer it on, add a "
            "case note or close it."
        )
    if change.event == "assigned":
        who = f"<@{s.assigned_to}>" if s.assigned_to else "the lead you chose"
        if not change.changed:
            return f"{ref} was already assigned to {who}; nothing changed."
        dm = "" if s.assigned_to == change.by else f" {who} has been told by direct message."
        return (
            f"{ref} is now assigned to {who}.{dm}{told} Next: the assigned lead records "
            "where it was referred, adds case notes and closes it with an outcome."
        )
    if change.event == "referred_on":
        to = label(s.referred_on_to or "", REFER_ON_LABELS)
        return (
            f"{ref} is recorded as referred on to {to}.{told} Next: add a case note with "
            "what was agreed, and close it with an outcome when the work is done."
        )
    if change.event == "noted":
        return (
            f"Your case note was added to {ref}; it is encrypted and only safeguarding leads "
            "can read it. Next: add more notes as things happen, and close it with an "
            "outcome when the work is done."
        )
    if change.event == "closed":
        return (
            f"{ref} is closed with your outcome.{told} Nothing more is needed; its details "
            "are kept for the retention period and then purged."
        )
    return f"{ref} has been updated."


def build_done_view(reference: str, texts: Sequence[str]) -> View:
    """What a lead's sub-form turns into once saved: what happened and what is next."""
    # The texts are built here from references, labels and mentions: no typed contents.
    body = "\n\n".join(texts) or f"{reference} saved."
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_DONE_MODAL),
        private_metadata=reference,
        title=PlainTextObject(text="Saved"),
        close=PlainTextObject(text="Done"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {c}"))
            for c in _chunks(body)
        ],
    )


# --------------------------------------------------------------------------- App Home


HOME_WAITING_MAX: Final = 5


def _age(at: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if hours < 6 else f"{hours} h"
    return f"{hours // 24} days"


def build_home_referral_blocks(r: LeadHomeReferrals) -> list[Block]:
    """A lead's App Home section: counts and the oldest waiting references; no contents."""
    warn = ":rotating_light: " if r.overdue else ""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*:shield: Safeguarding referrals*\n{warn}{r.open_total} open · "
                f"{r.awaiting} awaiting acknowledgement · {r.overdue} past their "
                "acknowledgement deadline"
            )
        )
    ]
    for w in r.oldest_waiting[:HOME_WAITING_MAX]:
        flag = " · *past deadline*" if w.overdue else ""
        icon = ":rotating_light:" if w.urgency == Urgency.IMMEDIATE else ":hourglass:"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{icon} *{w.reference}* · {label(w.urgency, URGENCY_LABELS)} · "
                    f"waiting {_age(w.created_at, r.now)}{flag}"
                ),
                accessory=ButtonElement(
                    text=PlainTextObject(text="View"),
                    action_id=str(Ids.REFERRAL_VIEW),
                    value=w.reference,
                ),
            )
        )
    more = r.awaiting - min(len(r.oldest_waiting), HOME_WAITING_MAX)
    tail = f"{more} more awaiting. " if more > 0 else ""
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{tail}Only safeguarding leads see this. Type `/csp referrals` "
                    "to acknowledge, assign or act on open referrals."
                    if r.open_total
                    else "Only safeguarding leads see this. No referrals are open."
                )
            ]
        )
    )
    return blocks


# --------------------------------------------------------------------------- lead's modals


def build_assign_view(reference: str) -> View:
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_ASSIGN_MODAL),
        private_metadata=reference,
        title=PlainTextObject(text=f"Assign {reference}"[:24]),
        submit=PlainTextObject(text="Assign"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=str(Ids.REFERRAL_ASSIGNEE),
                label=PlainTextObject(text="Safeguarding lead"),
                element=UserSelectElement(
                    action_id=str(Ids.REFERRAL_ASSIGNEE),
                    placeholder=PlainTextObject(text="Choose a lead"),
                ),
            )
        ],
    )


def _slack_length(ch: str) -> int:
    """How many characters Slack counts for ``ch`` (UTF-16 code units: emoji count two)."""
    return 2 if ord(ch) > 0xFFFF else 1


def _chunks(text: str, size: int = SECTION_MAX) -> list[str]:
    """``text`` in pieces Slack accepts in one section (at most ``size`` as Slack counts)."""
    out: list[str] = []
    start = used = 0
    for i, ch in enumerate(text):
        width = _slack_length(ch)
        if used + width > size:
            out.append(text[start:i])
            start, used = i, 0
        used += width
    out.append(text[start:])
    return out


def _plain_sections(title: str, value: object) -> list[Block]:
    """A bold title, then the value as plain text (never interpreted as mrkdwn)."""
    if value is None or value == "":
        return []
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=f"*{title}*")])]
    blocks += [SectionBlock(text=PlainTextObject(text=c, emoji=False)) for c in _chunks(str(value))]
    return blocks


def detail_buttons(s: ReferralSummary) -> list[ButtonElement]:
    """The workflow buttons of a lead's view, as fit its state (none once closed)."""
    if s.status == Status.CLOSED:
        return []
    buttons = [b for b in row_buttons(s) if b.action_id != str(Ids.REFERRAL_VIEW)]
    for text, action_id in (
        ("Refer on", Ids.REFERRAL_REFER_ON_OPEN),
        ("Add note", Ids.REFERRAL_NOTE_OPEN),
        ("Close referral", Ids.REFERRAL_CLOSE_OPEN),
    ):
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text=text), action_id=str(action_id), value=s.reference
            )
        )
    return buttons


def build_detail_view(d: ReferralDetail, *, max_notes: int = 20, notice: str | None = None) -> View:
    """A lead's modal: the decrypted referral and, while open, the workflow buttons.

    ``notice`` (what the lead's last step did and what is next) heads the view.
    """
    s = d.summary
    consent = label(str(d.consent.get("status", "")), CONSENT_LABELS)
    head: list[Block] = (
        [SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {notice[:2900]}"))]
        if notice
        else []
    )
    buttons = detail_buttons(s)
    actions: list[Block] = (
        [ActionsBlock(block_id=str(Ids.REFERRAL_DETAIL_ACTIONS), elements=buttons)]
        if buttons
        else []
    )
    blocks: list[Block] = [
        *head,
        HeaderBlock(text=PlainTextObject(text=f"{s.reference}")),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{label(s.group, GROUP_LABELS)} · {label(s.category, CATEGORY_LABELS)} · "
                    f"{label(s.urgency, URGENCY_LABELS)} · raised {_when(s.created_at, s.zone)} "
                    f"by <@{d.referrer_slack_id}> · {label(s.status, STATUS_LABELS)}"
                )
            ]
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_state_line(s))]),
        *actions,
        DividerBlock(),
    ]
    blocks += _plain_sections("Name", d.subject.get("name"))
    blocks += _plain_sections("Date of birth", d.subject.get("dob"))
    blocks += _plain_sections("Approximate age", d.subject.get("age"))
    blocks += _plain_sections("Address", d.subject.get("address"))
    blocks += _plain_sections("Where they are now", d.subject.get("location"))
    blocks += _plain_sections("What happened", d.concern.get("what"))
    blocks += _plain_sections("When", d.concern.get("when"))
    blocks += _plain_sections("Where", d.concern.get("where"))
    blocks += _plain_sections("How it is known", d.concern.get("how_known"))
    referrer = ", ".join(
        str(d.referrer[k]) for k in ("name", "role", "agency", "contact") if d.referrer.get(k)
    )
    blocks += _plain_sections("Referrer", referrer)
    blocks += _plain_sections("Consent", consent)
    blocks += _plain_sections("Reason for sharing without consent", d.consent.get("reason"))
    blocks += _plain_sections("Actions already taken", d.actions.get("taken"))
    if d.outcome:
        blocks += _plain_sections("Outcome", d.outcome.get("text"))
    room = MODAL_BLOCKS_MAX - len(blocks) - 3
    note_blocks: list[Block] = []
    shown = 0
    for n in reversed(d.notes[-max_notes:]):
        chunk = _plain_sections(f"Note by <@{n.author_slack_id}>, {_when(n.at, s.zone)}", n.text)
        if len(note_blocks) + len(chunk) > room:
            break
        note_blocks += chunk
        shown += 1
    if note_blocks:
        blocks += [DividerBlock(), *note_blocks]
    if shown < len(d.notes):
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{len(d.notes) - shown} older notes are not shown here; "
                        "use `csp-bot referrals export` for the full record."
                    )
                ]
            )
        )
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_ACTION_MODAL),
        private_metadata=s.reference,
        title=PlainTextObject(text=f"Referral {s.reference}"[:24]),
        close=PlainTextObject(text="Done"),
        blocks=blocks[:MODAL_BLOCKS_MAX],
    )


def build_step_view(reference: str, step: str) -> View:
    """A lead's sub-form over the view: ``step`` is refer_on, note or close.

    Its submission is handled like every other workflow step (audited, the alert
    updated, the referrer told) and answered with :func:`build_done_view`.
    """
    if step == "refer_on":
        title, submit = "Refer on", "Save"
        block: InputBlock = InputBlock(
            block_id=str(Ids.REFERRAL_REFER_ON),
            label=PlainTextObject(text="Referred on to"),
            element=StaticSelectElement(
                action_id=str(Ids.REFERRAL_REFER_ON),
                placeholder=PlainTextObject(text="Choose where it went"),
                options=_options(REFER_ON_LABELS, list(ReferOn)),
            ),
        )
    elif step == "note":
        title, submit = "Add a case note", "Add note"
        block = InputBlock(
            block_id=str(Ids.REFERRAL_NOTE),
            label=PlainTextObject(text="Case note"),
            element=PlainTextInputElement(
                action_id=str(Ids.REFERRAL_NOTE), multiline=True, max_length=3000
            ),
            hint=PlainTextObject(text="Encrypted; only safeguarding leads can read it."),
        )
    elif step == "close":
        title, submit = "Close referral", "Close referral"
        block = InputBlock(
            block_id=str(Ids.REFERRAL_OUTCOME),
            label=PlainTextObject(text="Outcome"),
            element=PlainTextInputElement(
                action_id=str(Ids.REFERRAL_OUTCOME), multiline=True, max_length=3000
            ),
            hint=PlainTextObject(text="Saving this closes the referral; it cannot be reopened."),
        )
    else:
        raise ValueError(f"unknown step {step!r}")
    return View(
        type="modal",
        callback_id=str(Ids.REFERRAL_ACTION_MODAL),
        private_metadata=reference,
        title=PlainTextObject(text=title[:24]),
        submit=PlainTextObject(text=submit[:24]),
        close=PlainTextObject(text="Back"),
        blocks=[
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Safeguarding referral *{reference}*")]
            ),
            block,
        ],
    )
