"""A lead's View modal: the decrypted referral as plain text, with the buttons its state allows.

The only referral builder that carries contents, shown only in a safeguarding lead's
modal; contents are rendered as ``plain_text`` so no mention, link or formatting typed
into a referral is ever interpreted. Every other ``bot.slack.referral_*`` builder takes
contents-free read models (reference, category, urgency, times, states).
"""

from __future__ import annotations

from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.referrals.models import ReferralDetail, ReferralSummary
from bot.referrals.vocabulary import (
    CATEGORY_LABELS,
    CONSENT_LABELS,
    GROUP_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Status,
    label,
)
from bot.slack.referral_blocks import local_when, section_chunks, state_line
from bot.slack.referral_lead import row_buttons
from bot.text.numbers import plural

MODAL_BLOCKS_MAX: Final = 100


def _plain_sections(title: str, value: object) -> list[Block]:
    """A bold title, then the value as plain text (never interpreted as mrkdwn)."""
    if value is None or value == "":
        return []
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=f"*{title}*")])]
    blocks += [
        SectionBlock(text=PlainTextObject(text=c, emoji=False)) for c in section_chunks(str(value))
    ]
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
                    f"{label(s.urgency, URGENCY_LABELS)} · "
                    f"raised {local_when(s.created_at, s.zone)} by <@{d.referrer_slack_id}> · "
                    f"{label(s.status, STATUS_LABELS)}"
                )
            ]
        ),
        ContextBlock(elements=[MarkdownTextObject(text=state_line(s))]),
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
        chunk = _plain_sections(
            f"Note by <@{n.author_slack_id}>, {local_when(n.at, s.zone)}", n.text
        )
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
                        text=f"{plural(len(d.notes) - shown, 'older note')} "
                        f"{'is' if len(d.notes) - shown == 1 else 'are'} not shown here; "
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
