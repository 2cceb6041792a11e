"""Safeguarding referrals: the form, encrypted storage, the workflow, escalation, retention.

Contents (subject, concern, referrer contact, consent, actions, notes, outcome)
are encrypted field group by field group (:mod:`bot.referrals.crypto`) before they reach
the session, are decrypted only for a safeguarding lead's view or an export, and
never go into an exception message, a log line, a delivery payload or an audit
detail. Every read and change writes an audit record (:mod:`bot.referrals.audit`),
refused attempts included: callers should catch :class:`NotALead` *inside* their
session scope so the refusal's audit record is committed.

Functions flush, never commit; the caller's session scope commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, PlannedDelivery, register_renderer
from bot.errors import NotAllowed, NotFound, UserError
from bot.ids import Ids
from bot.plan.members import Actor, members_with_role
from bot.referrals import audit
from bot.referrals.crypto import Cipher, DecryptError, active_cipher
from bot.settings import Settings
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import (
    Delivery,
    DeliveryStatus,
    Member,
    Partnership,
    Referral,
    ReferralNote,
    Role,
)

log = logging.getLogger(__name__)

PROMPTS_FILE: Final = Path(__file__).parents[1] / "data" / "statutory-prompts.toml"
DEFAULT_RETENTION_YEARS: Final = 6
ALERT_KIND: Final = "referral_alert"
ESCALATION_KIND: Final = "referral_escalation"
# The alert sent to each safeguarding lead by DM when there is no usable channel.
ALERT_DM_KIND: Final = "referral_alert_dm"
# Told to each admin when a referral arrives and nobody is a safeguarding lead.
NO_LEADS_KIND: Final = "referral_no_leads"
# The referrer's receipt, sent once the alert has been tried (it says what became of it).
RECEIPT_KIND: Final = "referral_receipt"
# To the referrer when a lead acknowledges, assigns, refers on or closes the referral.
STATUS_KIND: Final = "referral_status"
# To a lead another lead assigned the referral to.
ASSIGNED_KIND: Final = "referral_assigned"
STATUS_EVENTS: Final = frozenset({"acknowledged", "assigned", "referred_on", "closed"})
# How long a queued alert or notice waits for the handler to claim and post it before
# the outbox takes it (the handler claims it at once; this covers a process that dies
# first).
ALERT_GRACE: Final = dt.timedelta(minutes=2)
SYSTEM_ACTOR: Final = "system"


# --------------------------------------------------------------------------- vocabularies


class SubjectGroup(StrEnum):
    CHILD = "child"
    ADULT = "adult"


class Category(StrEnum):
    EXPLOITATION = "exploitation"
    FGM = "fgm"
    MODERN_SLAVERY = "modern_slavery"
    RADICALISATION = "radicalisation"
    DOMESTIC_ABUSE = "domestic_abuse"
    NEGLECT = "neglect"
    PHYSICAL = "physical"
    SEXUAL = "sexual"
    PSYCHOLOGICAL = "psychological"
    FINANCIAL = "financial"
    SELF_NEGLECT = "self_neglect"
    OTHER = "other"


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    WITHIN_24H = "within_24h"
    ROUTINE = "routine"


class Consent(StrEnum):
    GIVEN = "given"
    NOT_SOUGHT = "not_sought"
    REFUSED = "refused"


class ReferOn(StrEnum):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    POLICE = "police"
    MARAC = "marac"
    CHANNEL = "channel"
    OTHER = "other"


class AlertRoute(StrEnum):
    """Where a new referral's alert goes."""

    CHANNEL = "channel"  # the safeguarding channel
    DIRECT = "direct"  # each safeguarding lead by DM (no channel, or it refused the post)
    NOBODY = "nobody"  # there are no safeguarding leads: the admins are told instead


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    REFERRED_ON = "referred_on"
    CLOSED = "closed"


GROUP_LABELS: Final = {SubjectGroup.CHILD: "Child", SubjectGroup.ADULT: "Adult"}
CATEGORY_LABELS: Final = {
    Category.EXPLOITATION: "CSE and exploitation",
    Category.FGM: "FGM",
    Category.MODERN_SLAVERY: "Modern slavery and trafficking",
    Category.RADICALISATION: "Radicalisation (Prevent)",
    Category.DOMESTIC_ABUSE: "Domestic abuse",
    Category.NEGLECT: "Neglect",
    Category.PHYSICAL: "Physical abuse",
    Category.SEXUAL: "Sexual abuse",
    Category.PSYCHOLOGICAL: "Psychological abuse",
    Category.FINANCIAL: "Financial abuse",
    Category.SELF_NEGLECT: "Self-neglect",
    Category.OTHER: "Other",
}
URGENCY_LABELS: Final = {
    Urgency.IMMEDIATE: "Immediate risk",
    Urgency.WITHIN_24H: "Within 24 hours",
    Urgency.ROUTINE: "Routine",
}
CONSENT_LABELS: Final = {
    Consent.GIVEN: "Consent given",
    Consent.NOT_SOUGHT: "Consent not sought",
    Consent.REFUSED: "Consent refused",
}
REFER_ON_LABELS: Final = {
    ReferOn.CHILDRENS_SOCIAL_CARE: "Children's social care",
    ReferOn.ADULT_SOCIAL_CARE: "Adult social care",
    ReferOn.POLICE: "Police",
    ReferOn.MARAC: "MARAC",
    ReferOn.CHANNEL: "Channel",
    ReferOn.OTHER: "Other",
}
STATUS_LABELS: Final = {
    Status.OPEN: "Awaiting acknowledgement",
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.ASSIGNED: "Assigned",
    Status.REFERRED_ON: "Referred on",
    Status.CLOSED: "Closed",
}


def label(value: str, labels: Mapping[Any, str]) -> str:
    return labels.get(value, value.replace("_", " ").capitalize())


# --------------------------------------------------------------------------- the form

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
_FIELD_BLOCKS: Final[dict[str, str]] = {
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
            failed[_FIELD_BLOCKS.get(loc, str(Ids.REFERRAL_WHAT))] = "Please check this answer."
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


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True)
class ReferralSummary:
    """What may be shown outside a lead's modal: no contents."""

    id: int
    reference: str
    group: str
    category: str
    urgency: str
    status: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    assigned_to: str | None
    referred_on_to: str | None
    closed_at: dt.datetime | None
    zone: str

    @property
    def local_created(self) -> dt.datetime:
        return self.created_at.astimezone(ZoneInfo(self.zone))


@dataclass(frozen=True)
class AlertDelivery:
    """One queued alert: its outbox key and whom (or which channel) it goes to."""

    key: str
    target: str


@dataclass(frozen=True)
class ReferralCreated:
    summary: ReferralSummary
    created: bool  # False when the submission had already been stored
    prompts: tuple[str, ...]
    referrer_slack_id: str
    route: AlertRoute = AlertRoute.CHANNEL
    # Everything queued for this referral: the channel alert, the leads' DMs, or the
    # admins' "nobody is a lead" notices (see ``route``).
    alerts: tuple[AlertDelivery, ...] = ()
    # The referrer's receipt (queued with the referral; None for a referral with no
    # referrer left to tell).
    receipt_key: str | None = None

    @property
    def reference(self) -> str:
        return self.summary.reference


@dataclass(frozen=True)
class NoteView:
    at: dt.datetime
    author_slack_id: str
    text: str


@dataclass(frozen=True)
class ReferralDetail:
    """Decrypted contents, for a safeguarding lead's modal or an export only."""

    summary: ReferralSummary
    referrer_slack_id: str
    subject: dict[str, Any]
    concern: dict[str, Any]
    referrer: dict[str, Any]
    consent: dict[str, Any]
    actions: dict[str, Any]
    outcome: dict[str, Any] | None
    notes: tuple[NoteView, ...]


@dataclass(frozen=True)
class StatusChange:
    """The result of a workflow step: what changed, and who should hear about it."""

    summary: ReferralSummary
    changed: bool
    referrer_slack_id: str
    event: str  # acknowledged | assigned | referred_on | noted | closed
    by: str
    # Keys of the notices queued with the change (the referrer's status DM, the
    # assignee's DM), to be sent at once; the outbox sends them if that fails.
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferralCounts:
    """Counts only, for the weekly digest."""

    opened: int  # created in the window
    acknowledged: int  # acknowledged in the window
    awaiting_past_deadline: int  # open, unacknowledged, first deadline passed
    open_total: int  # not closed, any age


def _summary(ref: Referral, partnership: Partnership) -> ReferralSummary:
    return ReferralSummary(
        id=ref.id,
        reference=ref.reference,
        group=ref.subject_group,
        category=ref.category,
        urgency=ref.urgency,
        status=ref.status,
        created_at=ref.created_at,
        acknowledged_at=ref.acknowledged_at,
        acknowledged_by=ref.acknowledged_by,
        assigned_to=ref.assigned_to,
        referred_on_to=ref.referred_on_to,
        closed_at=ref.closed_at,
        zone=partnership.timezone,
    )


# --------------------------------------------------------------------------- access


class NotALead(NotAllowed):
    """The actor is not a safeguarding lead (the attempt has been audited)."""


_VERBS: Final = {
    "view": "view referrals",
    "acknowledge": "acknowledge referrals",
    "assign": "assign referrals",
    "refer_on": "record where a referral went",
    "note": "add case notes",
    "close": "close referrals",
    "list": "list referrals",
    "export": "export referrals",
}


def require_lead(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    action: str,
    reference: str | None,
    *,
    now: dt.datetime,
    admins_too: bool = False,
) -> None:
    """Refuse (and audit the attempt) unless ``actor`` is a lead (or an admin if allowed)."""
    if actor.is_lead or (admins_too and actor.is_admin):
        return
    audit.record(
        session,
        partnership_id=partnership.id,
        actor=actor.slack_user_id,
        action=f"denied_{action}"[:32],
        reference=reference,
        detail=f"role={actor.role.value}",
        now=now,
    )
    who = "a safeguarding lead or an admin" if admins_too else "a safeguarding lead"
    if action == "list" and actor.is_admin:
        raise NotALead(
            "You are not a safeguarding lead, so you cannot list referrals: only "
            "safeguarding leads can see them, and being an admin does not change that. "
            "To make someone a lead (yourself included), run `/csp role @person lead`; "
            "they keep any admin role. If your policy allows it, you can still export one "
            "referral for a subject access request or a handover with "
            f"`csp-bot referrals export REF --as {actor.slack_user_id}` (REF is the "
            "reference, like SG-2026-0007; the export is audited). "
            "Access to referrals is logged."
        )
    if action == "list":
        raise NotALead(
            "You are not a safeguarding lead, so you cannot list referrals: only "
            "safeguarding leads can see them. To raise a safeguarding concern, use "
            "`/csp refer`. If you should be a lead, ask an admin to run "
            "`/csp role @you lead` (with your name for @you). Access to referrals is logged."
        )
    raise NotALead(
        f"You are not {who}, so you cannot {_VERBS.get(action, action)}. "
        "If you need to know about a referral, ask a safeguarding lead. "
        "Access to referrals is logged."
    )


def _get(session: Session, partnership: Partnership, reference: str) -> Referral:
    ref = session.scalars(
        select(Referral).where(
            Referral.partnership_id == partnership.id,
            Referral.reference == reference.strip().upper(),
        )
    ).one_or_none()
    if ref is None:
        raise NotFound(
            "There is no referral with that reference. Check it (like SG-2026-0007) "
            "or use `/csp referrals` to list open ones."
        )
    return ref


def _audit(
    session: Session,
    partnership: Partnership,
    actor: str,
    action: str,
    reference: str | None,
    now: dt.datetime,
    detail: str = "",
) -> None:
    audit.record(
        session,
        partnership_id=partnership.id,
        actor=actor,
        action=action,
        reference=reference,
        detail=detail,
        now=now,
    )


# --------------------------------------------------------------------------- create

_REFERENCE_RE: Final = re.compile(r"^SG-(\d{4})-(\d{4,})$")


def _next_reference(session: Session, partnership: Partnership, year: int) -> str:
    prefix = f"SG-{year}-"
    refs = session.scalars(
        select(Referral.reference).where(
            Referral.partnership_id == partnership.id, Referral.reference.like(f"{prefix}%")
        )
    )
    highest = 0
    for r in refs:
        m = _REFERENCE_RE.match(r)
        if m:
            highest = max(highest, int(m.group(2)))
    return f"{prefix}{highest + 1:04d}"


def safeguarding_lead_ids(
    session: Session, partnership: Partnership, extra: Iterable[str] = ()
) -> list[str]:
    """Everyone who should hear of a new referral: members with the lead role, then ``extra``
    (``CSP_SAFEGUARDING_LEADS``, which also names admins who are leads)."""
    return members_with_role(session, partnership, Role.LEAD, extra)


def _admin_ids(session: Session, partnership: Partnership, extra: Iterable[str] = ()) -> list[str]:
    return members_with_role(session, partnership, Role.ADMIN, extra)


def _alert_payload(ref: Referral) -> dict[str, Any]:
    return {
        "reference": ref.reference,
        "category": ref.category,
        "urgency": ref.urgency,
        "group": ref.subject_group,
    }


def _queue(
    session: Session,
    partnership: Partnership,
    ref: Referral,
    *,
    key: str,
    kind: str,
    target: str,
    now: dt.datetime,
    extra: Mapping[str, str] | None = None,
) -> AlertDelivery:
    """Queue one alert or notice row, unless its key is already queued (each goes once).

    The payload holds the reference and labels only (``extra`` adds workflow facts
    such as who acted), never contents.

    The handler claims the row (in flight, under a lease), commits, posts it straight
    away and settles it; the outbox picks the row up after :data:`ALERT_GRACE` if it
    was never claimed, and reconciles it through ``conversations.history`` if it was
    left in flight.
    """
    if session.scalar(select(Delivery.id).where(Delivery.key == key)) is None:
        session.add(
            Delivery(
                partnership_id=partnership.id,
                key=key,
                kind=kind,
                target=target,
                occurrence=now,
                referral_id=ref.id,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now + ALERT_GRACE,
                payload={**_alert_payload(ref), **(extra or {})},
                created_at=now,
            )
        )
    return AlertDelivery(key=key, target=target)


def _queue_direct(
    session: Session,
    partnership: Partnership,
    ref: Referral,
    *,
    leads: Sequence[str],
    admins: Sequence[str],
    now: dt.datetime,
) -> tuple[AlertRoute, tuple[AlertDelivery, ...]]:
    """DM every lead; if there are none, tell every admin that nobody was alerted."""
    if leads:
        queued = tuple(
            _queue(
                session,
                partnership,
                ref,
                key=f"refalertdm:{ref.id}:{lead}",
                kind=ALERT_DM_KIND,
                target=lead,
                now=now,
            )
            for lead in leads
        )
        return AlertRoute.DIRECT, queued
    log.warning("referral %s has no safeguarding lead to alert; admins told", ref.reference)
    queued = tuple(
        _queue(
            session,
            partnership,
            ref,
            key=f"refnolead:{ref.id}:{admin}",
            kind=NO_LEADS_KIND,
            target=admin,
            now=now,
        )
        for admin in admins
    )
    return AlertRoute.NOBODY, queued


def _existing_submission(
    session: Session, partnership: Partnership, actor: Actor, submission_key: str
) -> tuple[Referral | None, str]:
    """The referral this submission already made (a retry), and the key to store it under.

    A key already used by *another* person (or partnership) is never theirs to see:
    the submission is stored as a new referral under a key of its own.
    """
    key = submission_key[:128]
    existing = session.scalars(select(Referral).where(Referral.submission_key == key)).one_or_none()
    if existing is None:
        return None, key
    if existing.partnership_id == partnership.id and (
        existing.referrer_slack_id == actor.slack_user_id
    ):
        return existing, key
    log.warning(
        "a referral submission reused another submitter's form key; stored as a new referral"
    )
    own = f"{actor.slack_user_id}:{partnership.id}:{submission_key}"[:128]
    mine = session.scalars(select(Referral).where(Referral.submission_key == own)).one_or_none()
    if mine is not None and mine.referrer_slack_id == actor.slack_user_id:
        return mine, own
    if mine is not None:
        raise UserError(
            "This referral form could not be matched to you. Nothing was stored; open a "
            "new one with `/csp refer`. If anyone is in immediate danger, call 999 now."
        )
    return None, own


def _created_again(session: Session, partnership: Partnership, ref: Referral) -> ReferralCreated:
    rows = list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.referral_id == ref.id,
                Delivery.kind.in_([ALERT_KIND, ALERT_DM_KIND, NO_LEADS_KIND, RECEIPT_KIND]),
            )
            .order_by(Delivery.id)
        )
    )
    receipt = next((r.key for r in rows if r.kind == RECEIPT_KIND), None)
    rows = [r for r in rows if r.kind != RECEIPT_KIND]
    route = AlertRoute.CHANNEL
    if any(r.kind == ALERT_DM_KIND for r in rows):
        route = AlertRoute.DIRECT
    elif any(r.kind == NO_LEADS_KIND for r in rows) or not rows:
        route = AlertRoute.NOBODY
    return ReferralCreated(
        summary=_summary(ref, partnership),
        created=False,
        prompts=prompts_for(partnership, ref.subject_group, ref.category),
        referrer_slack_id=ref.referrer_slack_id,
        route=route,
        alerts=tuple(AlertDelivery(r.key, r.target) for r in rows),
        receipt_key=receipt,
    )


def create_referral(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    form: ReferralForm,
    *,
    submission_key: str,
    now: dt.datetime,
    cipher: Cipher | None = None,
    leads: Iterable[str] = (),
    admins: Iterable[str] = (),
) -> ReferralCreated:
    """Store a referral once per ``submission_key`` and queue its alert.

    A second call with the same key *by the same person* (a re-submitted modal, a
    Slack retry) returns the first referral with ``created=False``. The same key from
    someone else never returns that referral: it is stored as a new one.

    The alert goes to the safeguarding channel if one is set; otherwise to every
    safeguarding lead by DM (members with the lead role plus ``leads``, the
    bootstrap list); if there are no leads, every admin (plus ``admins``) is told
    and the referral is still stored.
    """
    cipher = cipher or active_cipher()
    # Serialise creators: the row lock (PostgreSQL) or write lock (SQLite) makes
    # the idempotency check and the reference number race-free.
    session.execute(
        update(Partnership)
        .where(Partnership.id == partnership.id)
        .values(referral_seq=Partnership.referral_seq + 1)
    )
    existing, key = _existing_submission(session, partnership, actor, submission_key)
    if existing is not None:
        return _created_again(session, partnership, existing)
    zone = ZoneInfo(partnership.timezone)
    reference = _next_reference(session, partnership, now.astimezone(zone).year)
    ref = Referral(
        partnership_id=partnership.id,
        reference=reference,
        submission_key=key,
        subject_group=form.subject_group.value,
        category=form.category.value,
        urgency=form.urgency.value,
        status=Status.OPEN.value,
        referrer_slack_id=actor.slack_user_id,
        created_at=now,
        subject_enc=cipher.encrypt_json(
            {
                "name": form.subject_name,
                "dob": form.subject_dob.isoformat() if form.subject_dob else None,
                "age": form.subject_age,
                "address": form.subject_address,
                "location": form.subject_location,
            }
        ),
        concern_enc=cipher.encrypt_json(
            {
                "what": form.what_happened,
                "when": form.when_happened,
                "where": form.where_happened,
                "how_known": form.how_known,
            }
        ),
        referrer_enc=cipher.encrypt_json(
            {
                "slack_user_id": actor.slack_user_id,
                "name": actor.display_name,
                "role": form.referrer_role,
                "agency": form.referrer_agency,
                "contact": form.referrer_contact,
            }
        ),
        consent_enc=cipher.encrypt_json(
            {"status": form.consent.value, "reason": form.consent_reason}
        ),
        actions_enc=cipher.encrypt_json({"taken": form.actions_taken}),
    )
    session.add(ref)
    session.flush()
    channel = partnership.safeguarding_channel
    if channel:
        route = AlertRoute.CHANNEL
        alerts: tuple[AlertDelivery, ...] = (
            _queue(
                session,
                partnership,
                ref,
                key=f"refalert:{ref.id}",
                kind=ALERT_KIND,
                target=channel,
                now=now,
            ),
        )
    else:
        route, alerts = _queue_direct(
            session,
            partnership,
            ref,
            leads=safeguarding_lead_ids(session, partnership, leads),
            admins=_admin_ids(session, partnership, admins),
            now=now,
        )
    receipt = _queue(
        session,
        partnership,
        ref,
        key=f"refreceipt:{ref.id}",
        kind=RECEIPT_KIND,
        target=actor.slack_user_id,
        now=now,
    )
    _audit(
        session,
        partnership,
        actor.slack_user_id,
        "create",
        reference,
        now,
        f"group={ref.subject_group} category={ref.category} urgency={ref.urgency} "
        f"alert={route.value}",
    )
    session.flush()
    return ReferralCreated(
        summary=_summary(ref, partnership),
        created=True,
        prompts=prompts_for(partnership, ref.subject_group, ref.category),
        referrer_slack_id=actor.slack_user_id,
        route=route,
        alerts=alerts,
        receipt_key=receipt.key,
    )


def _alert_row(session: Session, key: str) -> Delivery | None:
    """The alert's outbox row as the database has it now.

    The row may have been claimed or settled by a bulk update (the outbox's
    compare-and-set) since this session loaded it, so its loaded state is refreshed.
    """
    return session.scalars(
        select(Delivery).where(Delivery.key == key).execution_options(populate_existing=True)
    ).first()


def channel_alert_refused(
    session: Session,
    partnership: Partnership,
    reference: str,
    *,
    reason: str,
    now: dt.datetime,
    leads: Iterable[str] = (),
    admins: Iterable[str] = (),
) -> tuple[AlertRoute, tuple[AlertDelivery, ...]]:
    """The safeguarding channel refused the alert for good: DM the leads instead.

    Fails the channel row (so the outbox does not retry it) and queues one DM per
    lead, or one notice per admin if there are no leads. ``reason`` is Slack's error
    code (never contents).
    """
    ref = _get(session, partnership, reference)
    row = _alert_row(session, f"refalert:{ref.id}")
    if row is not None and row.status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT):
        row.status = DeliveryStatus.FAILED
        row.last_error = f"safeguarding channel refused the alert: {reason}"[:500]
        row.claimed_until = None
    route, alerts = _queue_direct(
        session,
        partnership,
        ref,
        leads=safeguarding_lead_ids(session, partnership, leads),
        admins=_admin_ids(session, partnership, admins),
        now=now,
    )
    log.warning("alert for %s sent by DM instead: the channel said %s", ref.reference, reason)
    session.flush()
    return route, alerts


def record_alert_posted(
    session: Session,
    partnership: Partnership,
    reference: str,
    *,
    channel: str,
    ts: str,
    now: dt.datetime,
) -> None:
    """The inline alert post succeeded: remember where it is and settle its outbox row."""
    ref = _get(session, partnership, reference)
    ref.alert_channel = channel
    ref.alert_ts = ts
    row = _alert_row(session, f"refalert:{ref.id}")
    if row is not None and row.status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT):
        if row.status == DeliveryStatus.PENDING:
            row.attempts += 1  # a claimed row counted its attempt when it was claimed
        row.status = DeliveryStatus.SENT
        row.sent_at = now
        row.slack_channel = channel
        row.slack_ts = ts
        row.claimed_until = None
    session.flush()


def alert_location(
    session: Session, partnership: Partnership, reference: str
) -> tuple[str, str] | None:
    """(channel, ts) of the referral's channel alert, if it has been posted."""
    ref = _get(session, partnership, reference)
    if ref.alert_channel and ref.alert_ts:
        return ref.alert_channel, ref.alert_ts
    row = session.scalars(
        select(Delivery).where(
            Delivery.referral_id == ref.id,
            Delivery.kind == ALERT_KIND,
            Delivery.slack_ts.is_not(None),
        )
    ).first()
    if row is not None and row.slack_channel and row.slack_ts:
        return row.slack_channel, row.slack_ts
    return None


# --------------------------------------------------------------------------- workflow


def summary_of(session: Session, partnership: Partnership, reference: str) -> ReferralSummary:
    """The contents-free summary (for alerts and status messages); no access check needed."""
    return _summary(_get(session, partnership, reference), partnership)


def _open_for_change(ref: Referral) -> None:
    if ref.status == Status.CLOSED:
        raise UserError(
            f"{ref.reference} is closed, so it cannot be changed. Raise a new referral "
            "with `/csp refer` if there is a new concern."
        )


def _change(
    session: Session,
    ref: Referral,
    partnership: Partnership,
    changed: bool,
    event: str,
    actor: Actor,
    now: dt.datetime,
    *,
    assignee: str | None = None,
) -> StatusChange:
    """The change's result, with its notices queued in the same transaction.

    The referrer hears of each acknowledgement, assignment, referral on and closure
    (not of notes); a lead assigned by someone else hears that it is theirs.
    """
    notices: list[str] = []
    if changed and event in STATUS_EVENTS and ref.referrer_slack_id:
        if event in ONE_TIME_EVENTS:
            # Happens once per referral: a duplicate hits the unique key.
            key = f"refstatus:{ref.id}:{event}"
        else:
            key = f"refstatus:{ref.id}:{_notice_seq(session, ref, STATUS_KIND)}:{event}"
        notices.append(
            _queue(
                session,
                partnership,
                ref,
                key=key,
                kind=STATUS_KIND,
                target=ref.referrer_slack_id,
                now=now,
                extra={"event": event, "by": actor.slack_user_id, "assignee": assignee or ""},
            ).key
        )
    if changed and assignee and assignee != actor.slack_user_id:
        seq = _notice_seq(session, ref, ASSIGNED_KIND)
        notices.append(
            _queue(
                session,
                partnership,
                ref,
                key=f"refassigned:{ref.id}:{seq}:{assignee}",
                kind=ASSIGNED_KIND,
                target=assignee,
                now=now,
                extra={"by": actor.slack_user_id, "assignee": assignee},
            ).key
        )
    session.flush()
    return StatusChange(
        summary=_summary(ref, partnership),
        changed=changed,
        referrer_slack_id=ref.referrer_slack_id,
        event=event,
        by=actor.slack_user_id,
        notices=tuple(notices),
    )


def _notice_seq(session: Session, ref: Referral, kind: str) -> int:
    """1 + how many notices of ``kind`` this referral has had (keys stay unique)."""
    count = session.scalar(
        select(func.count(Delivery.id)).where(Delivery.referral_id == ref.id, Delivery.kind == kind)
    )
    return int(count or 0) + 1


# Status events that happen at most once per referral (their notices need no number).
ONE_TIME_EVENTS: Final = frozenset({"acknowledged", "closed"})


def _set_if(session: Session, ref: Referral, condition: Any, **values: Any) -> bool:
    """Compare-and-set ``values`` on ``ref`` where ``condition`` still holds in the store.

    Two concurrent clicks may both have read the old state (pysqlite opens no
    transaction for reads; PostgreSQL reads committed data), so the decision is made by
    the UPDATE itself: only one of them changes the row. ``ref`` is reloaded after.
    """
    session.flush()
    result = session.execute(
        update(Referral)
        .where(Referral.id == ref.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ref)
    return bool(getattr(result, "rowcount", 0) == 1)


def _acknowledge(session: Session, ref: Referral, actor: Actor, now: dt.datetime) -> bool:
    """Acknowledge ``ref`` unless someone already has (decided by the store)."""
    if ref.acknowledged_at is not None:
        return False
    return _set_if(
        session,
        ref,
        Referral.acknowledged_at.is_(None),
        acknowledged_at=now,
        acknowledged_by=actor.slack_user_id,
        status=case(
            (Referral.status == Status.OPEN.value, Status.ACKNOWLEDGED.value),
            else_=Referral.status,
        ),
    )


def acknowledge(
    session: Session, partnership: Partnership, actor: Actor, reference: str, *, now: dt.datetime
) -> StatusChange:
    require_lead(session, partnership, actor, "acknowledge", reference, now=now)
    ref = _get(session, partnership, reference)
    changed = _acknowledge(session, ref, actor, now)
    if changed:
        _audit(session, partnership, actor.slack_user_id, "acknowledge", ref.reference, now)
    session.flush()
    return _change(session, ref, partnership, changed, "acknowledged", actor, now)


def _open_for_lead(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    action: str,
    reference: str,
    now: dt.datetime,
) -> Referral:
    """The open referral a lead is about to change (a refusal is audited first)."""
    require_lead(session, partnership, actor, action, reference, now=now)
    ref = _get(session, partnership, reference)
    _open_for_change(ref)
    return ref


def assign(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    assignee: Actor,
    *,
    now: dt.datetime,
) -> StatusChange:
    """Give the referral to a safeguarding lead (acknowledging it if nobody has)."""
    ref = _open_for_lead(session, partnership, actor, "assign", reference, now)
    if not assignee.is_lead:
        raise UserError(
            f"<@{assignee.slack_user_id}> is not a safeguarding lead; assign the referral "
            "to a lead (an admin can make someone a lead with `/csp role`)."
        )
    _acknowledge(session, ref, actor, now)
    who = assignee.slack_user_id
    changed = ref.assigned_to != who and _set_if(
        session,
        ref,
        (Referral.assigned_to.is_(None) | (Referral.assigned_to != who))
        & (Referral.closed_at.is_(None)),
        assigned_to=who,
        status=case(
            (
                Referral.status.in_([Status.OPEN.value, Status.ACKNOWLEDGED.value]),
                Status.ASSIGNED.value,
            ),
            else_=Referral.status,
        ),
    )
    _open_for_change(ref)
    if changed:
        _audit(
            session,
            partnership,
            actor.slack_user_id,
            "assign",
            ref.reference,
            now,
            f"to={assignee.slack_user_id}",
        )
    session.flush()
    return _change(
        session, ref, partnership, changed, "assigned", actor, now, assignee=assignee.slack_user_id
    )


def refer_on(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    to: ReferOn,
    *,
    now: dt.datetime,
) -> StatusChange:
    ref = _open_for_lead(session, partnership, actor, "refer_on", reference, now)
    _acknowledge(session, ref, actor, now)
    ref.referred_on_to = ReferOn(to).value
    ref.status = Status.REFERRED_ON.value
    _audit(session, partnership, actor.slack_user_id, "refer_on", ref.reference, now, f"to={to}")
    session.flush()
    return _change(session, ref, partnership, True, "referred_on", actor, now)


def _check_text(text: str, what: str, limit: int = 3000) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserError(f"The {what} is empty; write something and save again.")
    if len(cleaned) > limit:
        raise UserError(f"Keep the {what} under {limit} characters (it has {len(cleaned)}).")
    return cleaned


def add_note(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    note: str,
    *,
    now: dt.datetime,
    cipher: Cipher | None = None,
) -> StatusChange:
    ref = _open_for_lead(session, partnership, actor, "note", reference, now)
    cipher = cipher or active_cipher()
    text = _check_text(note, "case note")
    session.add(
        ReferralNote(
            referral_id=ref.id,
            author_slack_id=actor.slack_user_id,
            created_at=now,
            note_enc=cipher.encrypt_json({"text": text}),
        )
    )
    _audit(session, partnership, actor.slack_user_id, "note", ref.reference, now)
    session.flush()
    return _change(session, ref, partnership, True, "noted", actor, now)


def close(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    outcome: str,
    *,
    now: dt.datetime,
    cipher: Cipher | None = None,
) -> StatusChange:
    ref = _open_for_lead(session, partnership, actor, "close", reference, now)
    cipher = cipher or active_cipher()
    text = _check_text(outcome, "outcome")
    _acknowledge(session, ref, actor, now)
    closed = _set_if(
        session,
        ref,
        Referral.closed_at.is_(None),
        outcome_enc=cipher.encrypt_json({"text": text, "by": actor.slack_user_id}),
        status=Status.CLOSED.value,
        closed_at=now,
    )
    if not closed:  # closed by someone else a moment ago
        _open_for_change(ref)
    _audit(session, partnership, actor.slack_user_id, "close", ref.reference, now)
    session.flush()
    return _change(session, ref, partnership, True, "closed", actor, now)


def list_open(
    session: Session, partnership: Partnership, actor: Actor, *, now: dt.datetime | None = None
) -> list[ReferralSummary]:
    """Open referrals, most urgent and oldest first (leads only; a refusal is audited)."""
    when = now or dt.datetime.now(dt.UTC)
    require_lead(session, partnership, actor, "list", None, now=when)
    refs = session.scalars(
        select(Referral)
        .where(Referral.partnership_id == partnership.id, Referral.status != Status.CLOSED)
        .order_by(Referral.created_at)
    )
    order: dict[str, int] = {Urgency.IMMEDIATE: 0, Urgency.WITHIN_24H: 1, Urgency.ROUTINE: 2}
    summaries = [_summary(r, partnership) for r in refs]
    summaries.sort(key=lambda s: (s.acknowledged_at is not None, order.get(s.urgency, 3)))
    return summaries


def _decrypt(cipher: Cipher, token: bytes | None) -> dict[str, Any]:
    if token is None:
        return {}
    value = cipher.decrypt_json(token)
    return value if isinstance(value, dict) else {}


def _detail(
    session: Session, partnership: Partnership, ref: Referral, cipher: Cipher
) -> ReferralDetail:
    try:
        notes = tuple(
            NoteView(
                at=n.created_at,
                author_slack_id=n.author_slack_id,
                text=str(_decrypt(cipher, n.note_enc).get("text", "")),
            )
            for n in session.scalars(
                select(ReferralNote)
                .where(ReferralNote.referral_id == ref.id)
                .order_by(ReferralNote.id)
            )
        )
        return ReferralDetail(
            summary=_summary(ref, partnership),
            referrer_slack_id=ref.referrer_slack_id,
            subject=_decrypt(cipher, ref.subject_enc),
            concern=_decrypt(cipher, ref.concern_enc),
            referrer=_decrypt(cipher, ref.referrer_enc),
            consent=_decrypt(cipher, ref.consent_enc),
            actions=_decrypt(cipher, ref.actions_enc),
            outcome=_decrypt(cipher, ref.outcome_enc) if ref.outcome_enc else None,
            notes=notes,
        )
    except DecryptError:
        raise UserError(
            f"{ref.reference} cannot be decrypted with the configured key; ask the "
            "administrator to check CSP_ENCRYPTION_KEY."
        ) from None


def view(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    *,
    now: dt.datetime,
    cipher: Cipher | None = None,
) -> ReferralDetail:
    """The decrypted referral for a safeguarding lead; every view is audited."""
    require_lead(session, partnership, actor, "view", reference, now=now)
    cipher = cipher or active_cipher()
    ref = _get(session, partnership, reference)
    if ref.purged_at is not None:
        raise UserError(
            f"{ref.reference} was closed long enough ago that its details were removed "
            "under the retention policy; only its counts remain."
        )
    detail = _detail(session, partnership, ref, cipher)
    _audit(session, partnership, actor.slack_user_id, "view", ref.reference, now)
    session.flush()
    return detail


def export_referral(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    *,
    now: dt.datetime | None = None,
    cipher: Cipher | None = None,
) -> dict[str, Any]:
    """One referral's full record (subject access request or handover); leads and admins."""
    when = now or dt.datetime.now(dt.UTC)
    require_lead(session, partnership, actor, "export", reference, now=when, admins_too=True)
    cipher = cipher or active_cipher()
    ref = _get(session, partnership, reference)
    s = _summary(ref, partnership)
    record: dict[str, Any] = {
        "reference": s.reference,
        "partnership": partnership.name,
        "group": s.group,
        "category": s.category,
        "urgency": s.urgency,
        "status": s.status,
        "referrer_slack_id": ref.referrer_slack_id,
        "created_at": s.created_at.isoformat(),
        "acknowledged_at": s.acknowledged_at.isoformat() if s.acknowledged_at else None,
        "acknowledged_by": s.acknowledged_by,
        "assigned_to": s.assigned_to,
        "referred_on_to": s.referred_on_to,
        "closed_at": s.closed_at.isoformat() if s.closed_at else None,
        "purged_at": ref.purged_at.isoformat() if ref.purged_at else None,
        "exported_at": when.isoformat(),
        "exported_by": actor.slack_user_id,
    }
    if ref.purged_at is None:
        detail = _detail(session, partnership, ref, cipher)
        record.update(
            subject=detail.subject,
            concern=detail.concern,
            referrer=detail.referrer,
            consent=detail.consent,
            actions=detail.actions,
            outcome=detail.outcome,
            notes=[
                {"at": n.at.isoformat(), "author": n.author_slack_id, "text": n.text}
                for n in detail.notes
            ],
        )
    _audit(session, partnership, actor.slack_user_id, "export", ref.reference, when)
    session.flush()
    return record


# --------------------------------------------------------------------------- escalation


def _calendar(partnership: Partnership) -> WorkingCalendar:
    closures = (partnership.settings or {}).get("closure_dates") or []
    if not closures:
        return default_calendar()
    dates = []
    for c in closures:
        try:
            dates.append(dt.date.fromisoformat(str(c)))
        except ValueError:
            continue
    return WorkingCalendar(dates)


def escalation_steps(
    urgency: str,
    created_at: dt.datetime,
    zone: ZoneInfo,
    calendar: WorkingCalendar | None = None,
) -> Iterator[tuple[int, dt.datetime]]:
    """(step, due) for step 1, 2, ...: when an unacknowledged referral is escalated.

    Immediate risk: every 30 minutes, round the clock. Within 24 hours: every 4
    working hours. Routine: every working day, at the time it was raised (moved
    to the next working moment if raised out of hours).
    """
    cal = calendar or default_calendar()
    step = 0
    due = created_at
    while True:
        step += 1
        if urgency == Urgency.IMMEDIATE:
            due = created_at + step * dt.timedelta(minutes=30)
        elif urgency == Urgency.WITHIN_24H:
            due = cal.add_working_time(due, dt.timedelta(hours=4), zone)
        else:
            due = cal.add_working_days_at(created_at, step, zone)
        yield step, due


def first_deadline(
    urgency: str, created_at: dt.datetime, zone: ZoneInfo, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    return next(escalation_steps(urgency, created_at, zone, calendar))[1]


def _escalation_targets(session: Session, partnership: Partnership) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.partnership_id == partnership.id,
                Member.role.in_([Role.LEAD.value, Role.ADMIN.value]),
            )
            .order_by(Member.id)
        )
    )


_MAX_STEPS_WALKED: Final = 20_000


def escalation_source(
    session: Session, partnership: Partnership, now: dt.datetime
) -> Iterable[PlannedDelivery]:
    """Escalations for referrals nobody has acknowledged, one DM per lead and admin per step.

    Only the latest step that has come due is proposed (with the next step as
    its ``useful_until``); its key ``refesc:<id>:<step>:<user>`` makes each step
    go out exactly once. Payload: reference, category, urgency, step. Nothing else.
    """
    refs = list(
        session.scalars(
            select(Referral)
            .where(
                Referral.partnership_id == partnership.id,
                Referral.acknowledged_at.is_(None),
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
            .order_by(Referral.id)
        )
    )
    if not refs:
        return []
    targets = _escalation_targets(session, partnership)
    zone = ZoneInfo(partnership.timezone)
    cal = _calendar(partnership)
    planned: list[PlannedDelivery] = []
    for ref in refs:
        current: tuple[int, dt.datetime] | None = None
        following: dt.datetime | None = None
        for step, due in escalation_steps(ref.urgency, ref.created_at, zone, cal):
            if due > now or step > _MAX_STEPS_WALKED:
                following = due
                break
            current = (step, due)
        if current is None:
            continue
        step, due = current
        for user in targets:
            planned.append(
                PlannedDelivery(
                    key=f"refesc:{ref.id}:{step}:{user}",
                    kind=ESCALATION_KIND,
                    target=user,
                    occurrence=due,
                    referral_id=ref.id,
                    payload={
                        "reference": ref.reference,
                        "category": ref.category,
                        "urgency": ref.urgency,
                        "step": step,
                    },
                    useful_until=following,
                )
            )
    planned.extend(_fallback_alerts(session, partnership, refs, now))
    return planned


def _fallback_alerts(
    session: Session, partnership: Partnership, refs: Sequence[Referral], now: dt.datetime
) -> list[PlannedDelivery]:
    """DM alerts to the leads for waiting referrals that no channel alert will reach.

    Covers a channel alert the outbox failed for good (``channel_not_found``...) and a
    referral raised while nobody was a lead, once someone is. Keys match the ones
    :func:`create_referral` uses, so each lead gets each alert once.
    """
    leads = safeguarding_lead_ids(session, partnership)
    if not leads:
        return []
    live = {DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.SENT}
    reached: set[int] = set()
    for referral_id, status in session.execute(
        select(Delivery.referral_id, Delivery.status).where(
            Delivery.partnership_id == partnership.id,
            Delivery.kind == ALERT_KIND,
            Delivery.referral_id.in_([r.id for r in refs]),
        )
    ):
        if referral_id is not None and status in live:
            reached.add(referral_id)
    return [
        PlannedDelivery(
            key=f"refalertdm:{ref.id}:{lead}",
            kind=ALERT_DM_KIND,
            target=lead,
            occurrence=now,
            referral_id=ref.id,
            payload=_alert_payload(ref),
        )
        for ref in refs
        if ref.id not in reached
        for lead in leads
    ]


def referral_counts(
    session: Session, partnership: Partnership, now: dt.datetime, *, days: int = 7
) -> ReferralCounts:
    """Counts for the digest: opened and acknowledged in the last ``days``, and overdue."""
    since = now - dt.timedelta(days=days)
    base = select(func.count(Referral.id)).where(Referral.partnership_id == partnership.id)
    opened = session.scalar(base.where(Referral.created_at >= since)) or 0
    acknowledged = (
        session.scalar(
            base.where(Referral.acknowledged_at >= since, Referral.acknowledged_at <= now)
        )
        or 0
    )
    open_total = session.scalar(base.where(Referral.closed_at.is_(None))) or 0
    zone = ZoneInfo(partnership.timezone)
    cal = _calendar(partnership)
    waiting = session.execute(
        select(Referral.urgency, Referral.created_at).where(
            Referral.partnership_id == partnership.id,
            Referral.acknowledged_at.is_(None),
            Referral.closed_at.is_(None),
        )
    )
    overdue = sum(1 for u, c in waiting if first_deadline(u, c, zone, cal) <= now)
    return ReferralCounts(
        opened=opened,
        acknowledged=acknowledged,
        awaiting_past_deadline=overdue,
        open_total=open_total,
    )


@dataclass(frozen=True)
class WaitingReferral:
    """One referral awaiting acknowledgement, for a lead's App Home: no contents."""

    reference: str
    urgency: str
    created_at: dt.datetime
    overdue: bool  # its first acknowledgement deadline has passed


@dataclass(frozen=True)
class LeadHomeReferrals:
    """Counts and the oldest waiting referrals, for a safeguarding lead's App Home."""

    open_total: int
    awaiting: int  # open and not acknowledged
    overdue: int  # awaiting, first acknowledgement deadline passed
    oldest_waiting: tuple[WaitingReferral, ...]
    now: dt.datetime
    zone: str


def home_referrals(
    session: Session, partnership: Partnership, actor: Actor, *, now: dt.datetime, limit: int = 5
) -> LeadHomeReferrals | None:
    """What a lead's App Home shows of referrals (None for anyone else: they see nothing).

    Counts and references only, so nothing is audited: no contents are read.
    """
    if not actor.is_lead:
        return None
    zone = ZoneInfo(partnership.timezone)
    cal = _calendar(partnership)
    open_total = (
        session.scalar(
            select(func.count(Referral.id)).where(
                Referral.partnership_id == partnership.id,
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
        )
        or 0
    )
    waiting = [
        WaitingReferral(
            reference=reference,
            urgency=urgency,
            created_at=created,
            overdue=first_deadline(urgency, created, zone, cal) <= now,
        )
        for reference, urgency, created in session.execute(
            select(Referral.reference, Referral.urgency, Referral.created_at)
            .where(
                Referral.partnership_id == partnership.id,
                Referral.acknowledged_at.is_(None),
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
            .order_by(Referral.created_at, Referral.id)
        )
    ]
    return LeadHomeReferrals(
        open_total=int(open_total),
        awaiting=len(waiting),
        overdue=sum(1 for w in waiting if w.overdue),
        oldest_waiting=tuple(waiting[:limit]),
        now=now,
        zone=partnership.timezone,
    )


# --------------------------------------------------------------------------- retention


def retention_years(partnership: Partnership, category: str) -> int:
    """Years after closure a referral's details are kept (settings ``retention_years``).

    ``retention_years`` may be a number for every category or a table such as
    ``{"default": 6, "fgm": 25}``.
    """
    setting = (partnership.settings or {}).get("retention_years")
    value: object = DEFAULT_RETENTION_YEARS
    if isinstance(setting, int | float) and not isinstance(setting, bool):
        value = setting
    elif isinstance(setting, dict):
        value = setting.get(category, setting.get("default", DEFAULT_RETENTION_YEARS))
    try:
        years = int(str(value).split(".")[0])
    except ValueError:
        years = DEFAULT_RETENTION_YEARS
    return max(years, 0)


def _add_years(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


def purge_expired(
    session: Session, partnership: Partnership, now: dt.datetime, *, actor: str = SYSTEM_ACTOR
) -> int:
    """Remove personal fields of referrals closed longer ago than their retention period.

    Keeps the anonymised row (category, group, urgency, dates) for counts,
    deletes case notes, and audits each purge. Returns how many were purged.
    """
    refs = session.scalars(
        select(Referral).where(
            Referral.partnership_id == partnership.id,
            Referral.closed_at.is_not(None),
            Referral.purged_at.is_(None),
        )
    )
    purged = 0
    for ref in refs:
        assert ref.closed_at is not None
        if _add_years(ref.closed_at, retention_years(partnership, ref.category)) > now:
            continue
        ref.subject_enc = None
        ref.concern_enc = None
        ref.referrer_enc = None
        ref.consent_enc = None
        ref.actions_enc = None
        ref.outcome_enc = None
        ref.referrer_slack_id = ""
        ref.purged_at = now
        notes = list(
            session.scalars(select(ReferralNote).where(ReferralNote.referral_id == ref.id))
        )
        for note in notes:
            session.delete(note)
        _audit(session, partnership, actor, "purge", ref.reference, now, f"notes={len(notes)}")
        purged += 1
    session.flush()
    return purged


# --------------------------------------------------------------------------- renderers


def _render_alert(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage | None:
    from bot.slack import referrals as views

    ref = session.get(Referral, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = session.get(Partnership, ref.partnership_id)
    if partnership is None:
        return None
    summary = _summary(ref, partnership)
    return OutboundMessage(text=views.alert_text(summary), blocks=views.build_alert_blocks(summary))


def _render_escalation(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    from bot.slack import referrals as views

    ref = session.get(Referral, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.acknowledged_at is not None or ref.closed_at is not None:
        return None  # acknowledged meanwhile: no longer worth sending
    waited = views.waited_for(ref.created_at, now)
    return OutboundMessage(
        text=views.escalation_text(ref.reference, ref.category, ref.urgency, waited),
        blocks=views.build_escalation_blocks(ref.reference, ref.category, ref.urgency, waited),
    )


def _render_no_leads(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    from bot.slack import referrals as views

    ref = session.get(Referral, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = session.get(Partnership, ref.partnership_id)
    if partnership is None:
        return None
    summary = _summary(ref, partnership)
    return OutboundMessage(
        text=views.no_leads_text(summary), blocks=views.build_no_leads_blocks(summary)
    )


def alert_outcome(session: Session, referral_id: int) -> tuple[str, bool]:
    """What became of a referral's alert so far, as its receipt tells it.

    Returns (outcome, admins told): outcome is one of the values of
    ``bot.slack.referrals.AlertOutcome``: "channel" or "direct" once an alert went,
    "nobody" when no lead could be alerted (admins told if any admin notice was
    queued), "unreachable" when every lead's DM failed for good, else "retrying".
    """
    rows = session.execute(
        select(Delivery.kind, Delivery.status).where(
            Delivery.referral_id == referral_id,
            Delivery.kind.in_([ALERT_KIND, ALERT_DM_KIND, NO_LEADS_KIND]),
        )
    ).all()
    if any(k == ALERT_KIND and st == DeliveryStatus.SENT for k, st in rows):
        return "channel", False
    if any(k == ALERT_DM_KIND and st == DeliveryStatus.SENT for k, st in rows):
        return "direct", False
    if not rows or any(k == NO_LEADS_KIND for k, _ in rows):
        return "nobody", any(k == NO_LEADS_KIND for k, _ in rows)
    settled = (DeliveryStatus.FAILED, DeliveryStatus.DROPPED)
    dms = [st for k, st in rows if k == ALERT_DM_KIND]
    channel_open = any(k == ALERT_KIND and st not in settled for k, st in rows)
    if dms and not channel_open and all(st in settled for st in dms):
        return "unreachable", True
    return "retrying", False


def _live_referral(session: Session, delivery: Delivery) -> tuple[Referral, Partnership] | None:
    ref = session.get(Referral, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.purged_at is not None:
        return None
    partnership = session.get(Partnership, ref.partnership_id)
    return None if partnership is None else (ref, partnership)


def _render_receipt(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    from bot.slack import referrals as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    outcome, admins_told = alert_outcome(session, ref.id)
    told = views.AlertOutcome(outcome)
    prompts = prompts_for(partnership, ref.subject_group, ref.category)
    return OutboundMessage(
        text=views.receipt_text(ref.reference, told, admins_told=admins_told),
        blocks=views.build_receipt_blocks(ref.reference, prompts, told, admins_told=admins_told),
    )


def _render_status(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    from bot.slack import referrals as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    payload = delivery.payload or {}
    summary = _summary(ref, partnership)
    if payload.get("assignee"):
        summary = replace(summary, assigned_to=str(payload["assignee"]))
    text = views.status_dm_text(summary, str(payload.get("event", "")), str(payload.get("by", "")))
    return OutboundMessage(text=text)


def _render_assigned(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    from bot.slack import referrals as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    if ref.closed_at is not None:
        return None  # closed meanwhile: nothing left to do for the assignee
    payload = delivery.payload or {}
    assignee = str(payload.get("assignee") or delivery.target)
    if ref.assigned_to != assignee or delivery.target != assignee:
        return None  # reassigned meanwhile: the new assignee has a notice of their own
    if assignee not in safeguarding_lead_ids(session, partnership):
        return None  # no longer a lead: a referral's details are for leads only
    summary = _summary(ref, partnership)
    by = str(payload.get("by", ""))
    return OutboundMessage(text=views.assigned_dm_text(summary, by))


# --------------------------------------------------------------------------- readiness


def safeguarding_readiness(
    settings: Settings, session: Session, partnership: Partnership
) -> list[str]:
    """Warnings worth logging at start-up: what would stop a referral reaching a lead."""
    warnings: list[str] = []
    if not settings.encryption_keys:
        warnings.append(
            "CSP_ENCRYPTION_KEY is not set, so `/csp refer` cannot take referrals: make a key "
            "with `csp-bot keys generate` and set it."
        )
    if not safeguarding_lead_ids(session, partnership, settings.safeguarding_leads):
        warnings.append(
            "Nobody is a safeguarding lead, so a referral would reach no one who can read "
            "it (the referrer is told to phone instead): set CSP_SAFEGUARDING_LEADS or have "
            "an admin run `/csp role @user lead`."
        )
    if not settings.safeguarding_channel:
        warnings.append(
            "CSP_SAFEGUARDING_CHANNEL is not set, so referral alerts go to each safeguarding "
            "lead by direct message: set it to a private channel the bot is in."
        )
    return warnings


register_renderer(ALERT_KIND, _render_alert)
register_renderer(ALERT_DM_KIND, _render_alert)
register_renderer(NO_LEADS_KIND, _render_no_leads)
register_renderer(ESCALATION_KIND, _render_escalation)
register_renderer(RECEIPT_KIND, _render_receipt)
register_renderer(STATUS_KIND, _render_status)
register_renderer(ASSIGNED_KIND, _render_assigned)
