"""The referral form modal, and answers fit for its error messages; the 999 line heads it."""

from __future__ import annotations

import re
from typing import Final

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.referrals.form import TEXT_FIELDS
from bot.referrals.vocabulary import (
    CATEGORY_LABELS,
    CONSENT_LABELS,
    GROUP_LABELS,
    URGENCY_LABELS,
    Category,
    Consent,
    SubjectGroup,
    Urgency,
)
from bot.slack.referral_blocks import choice_options

DANGER_LINE: Final = "If anyone is in immediate danger, call 999 now."
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
                options=choice_options(GROUP_LABELS, list(SubjectGroup)),
            ),
        ),
        InputBlock(
            block_id=str(Ids.REFERRAL_CATEGORY),
            label=PlainTextObject(text="Category"),
            element=StaticSelectElement(
                action_id=str(Ids.REFERRAL_CATEGORY),
                placeholder=PlainTextObject(text="Choose a category"),
                options=choice_options(CATEGORY_LABELS, list(Category)),
            ),
        ),
        InputBlock(
            block_id=str(Ids.REFERRAL_URGENCY),
            label=PlainTextObject(text="Urgency"),
            element=RadioButtonsElement(
                action_id=str(Ids.REFERRAL_URGENCY),
                options=choice_options(URGENCY_LABELS, list(Urgency)),
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
                action_id=str(Ids.REFERRAL_CONSENT),
                options=choice_options(CONSENT_LABELS, list(Consent)),
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
