"""A lead's referral list and case actions: the row buttons, the step forms and what each did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.referrals.models import ReferralSummary, StatusChange
from bot.referrals.vocabulary import (
    CATEGORY_LABELS,
    REFER_ON_LABELS,
    URGENCY_LABELS,
    ReferOn,
    Status,
    label,
)
from bot.slack.referral_blocks import choice_options, local_when, section_chunks, state_line

MESSAGE_BLOCKS_MAX: Final = 50


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


def build_referral_list_blocks(
    summaries: Sequence[ReferralSummary], *, channel: str | None = None
) -> list[Block]:
    """`/csp referrals` for a lead: one row per open referral with the buttons that fit.
    ``channel``: the safeguarding channel, where new ones are alerted (else by DM)."""
    if not summaries:
        where = (
            f"New ones are alerted in <#{channel}> as they arrive."
            if channel
            else "No safeguarding channel is set, so new ones come to each lead by direct "
            "message as they arrive."
        )
        return [
            SectionBlock(
                text=MarkdownTextObject(text=f"There are no open safeguarding referrals. {where}")
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
                    f"{label(s.urgency, URGENCY_LABELS)} · "
                    f"raised {local_when(s.created_at, s.zone)}\n{state_line(s)}"
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
            for c in section_chunks(body)
        ],
    )


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
                options=choice_options(REFER_ON_LABELS, list(ReferOn)),
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
