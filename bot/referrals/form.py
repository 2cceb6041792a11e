"""The referral form: its fields, validation that never repeats the input, the statutory prompts."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import UserError
from bot.ids import Ids
from bot.referrals.vocabulary import Category, Consent, SubjectGroup, Urgency
from store.models import Partnership

PROMPTS_FILE: Final = Path(__file__).parents[1] / "data" / "statutory-prompts.toml"

# (block id, maximum length, required) for every free-text field.
TEXT_FIELDS: Final[dict[str, tuple[Ids, int, bool]]] = {
    "subject_name": (Ids.REFERRAL_SUBJECT_NAME, 200, True),
    "subject_age": (Ids.REFERRAL_AGE, 40, False),
    "subject_address": (Ids.REFERRAL_ADDRESS, 500, False),
    "subject_location": (Ids.REFERRAL_LOCATION, 500, False),
    "what_happened": (Ids.REFERRAL_WHAT, 3000, True),
    "when_happened": (Ids.REFERRAL_WHEN, 200, False),
    "where_happened": (Ids.REFERRAL_WHERE, 500, False),
    "how_known": (Ids.REFERRAL_HOW_KNOWN, 1000, True),
    "referrer_role": (Ids.REFERRAL_REFERRER_ROLE, 200, True),
    "referrer_agency": (Ids.REFERRAL_REFERRER_AGENCY, 200, True),
    "referrer_contact": (Ids.REFERRAL_REFERRER_CONTACT, 300, True),
    "consent_reason": (Ids.REFERRAL_CONSENT_REASON, 1000, False),
    "actions_taken": (Ids.REFERRAL_ACTIONS_TAKEN, 3000, False),
}
CHOICE_FIELDS: Final[dict[str, tuple[Ids, type[StrEnum]]]] = {
    "subject_group": (Ids.REFERRAL_GROUP, SubjectGroup),
    "category": (Ids.REFERRAL_CATEGORY, Category),
    "urgency": (Ids.REFERRAL_URGENCY, Urgency),
    "consent": (Ids.REFERRAL_CONSENT, Consent),
}
FIELD_BLOCKS: Final[dict[str, str]] = {
    **{name: str(spec[0]) for name, spec in TEXT_FIELDS.items()},
    **{name: str(spec[0]) for name, spec in CHOICE_FIELDS.items()},
    "subject_dob": str(Ids.REFERRAL_DOB),
}
_CHOICE_PROMPTS: Final = {
    "subject_group": "Choose child or adult.",
    "category": "Choose the category that fits best (or Other).",
    "urgency": "Choose how urgent this is.",
    "consent": "Say whether consent was given, not sought or refused.",
}
_TEXT_PROMPTS: Final = {
    "subject_name": "Give the person's name (or 'not known').",
    "what_happened": "Say what happened.",
    "how_known": "Say how you know (seen, told, disclosed...).",
    "referrer_role": "Give your role.",
    "referrer_agency": "Give your agency.",
    "referrer_contact": "Give a phone number or email a lead can reach you on.",
}


class ReferralForm(BaseModel):
    """A validated referral. Build it with :func:`validate_referral_form`, not directly."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    subject_group: SubjectGroup
    category: Category
    urgency: Urgency
    subject_name: str = Field(min_length=1, max_length=200)
    subject_dob: dt.date | None = None
    subject_age: str | None = Field(default=None, max_length=40)
    subject_address: str | None = Field(default=None, max_length=500)
    subject_location: str | None = Field(default=None, max_length=500)
    what_happened: str = Field(min_length=1, max_length=3000)
    when_happened: str | None = Field(default=None, max_length=200)
    where_happened: str | None = Field(default=None, max_length=500)
    how_known: str = Field(min_length=1, max_length=1000)
    referrer_role: str = Field(min_length=1, max_length=200)
    referrer_agency: str = Field(min_length=1, max_length=200)
    referrer_contact: str = Field(min_length=1, max_length=300)
    consent: Consent
    consent_reason: str | None = Field(default=None, max_length=1000)
    actions_taken: str | None = Field(default=None, max_length=3000)


class FormInvalid(UserError):
    """Some answers need fixing; ``errors`` maps block id -> a sentence (never the input)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Some answers in the referral need checking; see the messages by each.")
        self.errors = errors


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None


def _years_between(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def validate_referral_form(raw: Mapping[str, object], *, today: dt.date) -> ReferralForm:
    """Check the modal's answers (keyed by block id); raise :class:`FormInvalid` if any fail.

    Pure. Error sentences never repeat what was typed.
    """
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for name, (block, enum) in CHOICE_FIELDS.items():
        value = _clean(raw.get(block))
        if value is None:
            errors[block] = _CHOICE_PROMPTS[name]
        elif value not in {m.value for m in enum}:
            errors[block] = "Choose one of the options in the list."
        else:
            data[name] = value
    for name, (block, limit, required) in TEXT_FIELDS.items():
        value = _clean(raw.get(block))
        if value is None:
            if required:
                errors[block] = _TEXT_PROMPTS.get(name, "This answer is required.")
            continue
        if len(value) > limit:
            errors[block] = f"Keep this under {limit} characters (it has {len(value)})."
            continue
        data[name] = value
    dob_text = _clean(raw.get(Ids.REFERRAL_DOB))
    if dob_text is not None:
        try:
            dob = dt.date.fromisoformat(dob_text)
        except ValueError:
            errors[Ids.REFERRAL_DOB] = "Pick the date of birth from the calendar (YYYY-MM-DD)."
        else:
            if dob > today:
                errors[Ids.REFERRAL_DOB] = (
                    "The date of birth is in the future; check it, or leave it empty "
                    "and give an approximate age."
                )
            elif _years_between(dob, today) > 125:
                errors[Ids.REFERRAL_DOB] = "Check the date of birth: it makes the person over 125."
            else:
                data["subject_dob"] = dob
                group = data.get("subject_group")
                age = _years_between(dob, today)
                if group == SubjectGroup.CHILD and age >= 18:
                    errors[Ids.REFERRAL_DOB] = (
                        "This date of birth makes the person 18 or over; choose Adult "
                        "or check the date."
                    )
                elif group == SubjectGroup.ADULT and age < 18:
                    errors[Ids.REFERRAL_DOB] = (
                        "This date of birth makes the person under 18; choose Child "
                        "or check the date."
                    )
    if (
        data.get("consent") in (Consent.NOT_SOUGHT, Consent.REFUSED)
        and "consent_reason" not in data
        and Ids.REFERRAL_CONSENT_REASON not in errors
    ):
        errors[Ids.REFERRAL_CONSENT_REASON] = (
            "Give the lawful reason for sharing without consent "
            "(e.g. a child at risk of significant harm)."
        )
    if errors:
        raise FormInvalid(errors)
    try:
        return ReferralForm(**data)
    except ValidationError as exc:
        # Unreachable with the checks above; still never let pydantic's text escape.
        failed: dict[str, str] = {}
        for err in exc.errors(include_input=False, include_url=False):
            loc = str(err["loc"][0]) if err["loc"] else ""
            failed[FIELD_BLOCKS.get(loc, str(Ids.REFERRAL_WHAT))] = "Please check this answer."
        raise FormInvalid(failed) from None


# --------------------------------------------------------------------------- prompts


def load_prompts(group: str, category: str, *, path: Path | None = None) -> tuple[str, ...]:
    """The statutory prompts for a referral of this group and category, in file order."""
    source = path or PROMPTS_FILE
    try:
        with source.open("rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    texts: list[str] = []
    for item in doc.get("prompt", []):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        categories = item.get("categories")
        groups = item.get("groups")
        if categories and category not in categories:
            continue
        if groups and group not in groups:
            continue
        texts.append(item["text"].strip())
    return tuple(texts)


def prompts_for(partnership: Partnership, group: str, category: str) -> tuple[str, ...]:
    override = (partnership.settings or {}).get("statutory_prompts_file")
    return load_prompts(group, category, path=Path(override) if override else None)
