"""Referral records: storing a referral once per submission, its reference, its encrypted fields."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.members import Actor
from bot.referrals import audit, delivery_queries, queries
from bot.referrals.access import admin_ids, safeguarding_lead_ids
from bot.referrals.alerts import queue_delivery, queue_direct
from bot.referrals.crypto import Cipher, active_cipher
from bot.referrals.form import ReferralForm, prompts_for
from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND, NO_LEADS_KIND, RECEIPT_KIND
from bot.referrals.models import AlertDelivery, ReferralCreated, summarise
from bot.referrals.vocabulary import AlertRoute, Status
from store.models import Partnership, Referral

log = logging.getLogger(__name__)

_REFERENCE_RE: Final = re.compile(r"^SG-(\d{4})-(\d{4,})$")


def _next_reference(session: Session, partnership: Partnership, year: int) -> str:
    prefix = f"SG-{year}-"
    refs = queries.references_like(session, partnership, prefix)
    highest = 0
    for r in refs:
        m = _REFERENCE_RE.match(r)
        if m:
            highest = max(highest, int(m.group(2)))
    return f"{prefix}{highest + 1:04d}"


def _existing_submission(
    session: Session, partnership: Partnership, actor: Actor, submission_key: str
) -> tuple[Referral | None, str]:
    """The referral this submission already made (a retry), and the key to store it under.

    A key already used by *another* person (or partnership) is never theirs to see:
    the submission is stored as a new referral under a key of its own.
    """
    key = submission_key[:128]
    existing = queries.referral_by_submission_key(session, key)
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
    mine = queries.referral_by_submission_key(session, own)
    if mine is not None and mine.referrer_slack_id == actor.slack_user_id:
        return mine, own
    if mine is not None:
        raise UserError(
            "This referral form could not be matched to you. Nothing was stored; open a "
            "new one with `/csp refer`. If anyone is in immediate danger, call 999 now."
        )
    return None, own


def _created_again(session: Session, partnership: Partnership, ref: Referral) -> ReferralCreated:
    """What :func:`create_referral` returned the first time, rebuilt from the stored rows."""
    rows = delivery_queries.first_alert_rows(session, ref.id)
    receipt = next((r.key for r in rows if r.kind == RECEIPT_KIND), None)
    rows = [r for r in rows if r.kind != RECEIPT_KIND]
    route = AlertRoute.CHANNEL
    if any(r.kind == ALERT_DM_KIND for r in rows):
        route = AlertRoute.DIRECT
    elif any(r.kind == NO_LEADS_KIND for r in rows) or not rows:
        route = AlertRoute.NOBODY
    return ReferralCreated(
        summary=summarise(ref, partnership),
        created=False,
        prompts=prompts_for(partnership, ref.subject_group, ref.category),
        referrer_slack_id=ref.referrer_slack_id,
        route=route,
        alerts=tuple(AlertDelivery(r.key, r.target) for r in rows),
        receipt_key=receipt,
    )


def _encrypted_fields(form: ReferralForm, actor: Actor, cipher: Cipher) -> dict[str, bytes]:
    """The referral's contents, one encrypted token per field group (column name -> token)."""
    return {
        "subject_enc": cipher.encrypt_json(
            {
                "name": form.subject_name,
                "dob": form.subject_dob.isoformat() if form.subject_dob else None,
                "age": form.subject_age,
                "address": form.subject_address,
                "location": form.subject_location,
            }
        ),
        "concern_enc": cipher.encrypt_json(
            {
                "what": form.what_happened,
                "when": form.when_happened,
                "where": form.where_happened,
                "how_known": form.how_known,
            }
        ),
        "referrer_enc": cipher.encrypt_json(
            {
                "slack_user_id": actor.slack_user_id,
                "name": actor.display_name,
                "role": form.referrer_role,
                "agency": form.referrer_agency,
                "contact": form.referrer_contact,
            }
        ),
        "consent_enc": cipher.encrypt_json(
            {"status": form.consent.value, "reason": form.consent_reason}
        ),
        "actions_enc": cipher.encrypt_json({"taken": form.actions_taken}),
    }


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
    queries.lock_referral_numbers(session, partnership)
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
        **_encrypted_fields(form, actor, cipher),
    )
    session.add(ref)
    session.flush()
    channel = partnership.safeguarding_channel
    if channel:
        route = AlertRoute.CHANNEL
        alerts: tuple[AlertDelivery, ...] = (
            queue_delivery(
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
        route, alerts = queue_direct(
            session,
            partnership,
            ref,
            leads=safeguarding_lead_ids(session, partnership, leads),
            admins=admin_ids(session, partnership, admins),
            now=now,
        )
    receipt = queue_delivery(
        session,
        partnership,
        ref,
        key=f"refreceipt:{ref.id}",
        kind=RECEIPT_KIND,
        target=actor.slack_user_id,
        now=now,
    )
    audit.record_for(
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
        summary=summarise(ref, partnership),
        created=True,
        prompts=prompts_for(partnership, ref.subject_group, ref.category),
        referrer_slack_id=actor.slack_user_id,
        route=route,
        alerts=alerts,
        receipt_key=receipt.key,
    )
