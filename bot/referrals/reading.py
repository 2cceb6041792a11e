"""Reading referrals: a lead's open list, the decrypted view and the audited full export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.members import Actor
from bot.referrals import audit, queries
from bot.referrals.access import find_referral, require_lead
from bot.referrals.crypto import Cipher, DecryptError, active_cipher
from bot.referrals.models import NoteView, ReferralDetail, ReferralSummary, summarise
from bot.referrals.vocabulary import Urgency
from store.models import Partnership, Referral


def list_open(
    session: Session, partnership: Partnership, actor: Actor, *, now: dt.datetime
) -> list[ReferralSummary]:
    """Open referrals, most urgent and oldest first (leads only; a refusal is audited)."""
    require_lead(session, partnership, actor, "list", None, now=now)
    refs = queries.open_referrals(session, partnership)
    order: dict[str, int] = {Urgency.IMMEDIATE: 0, Urgency.WITHIN_24H: 1, Urgency.ROUTINE: 2}
    summaries = [summarise(r, partnership) for r in refs]
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
            for n in queries.notes_in_order(session, ref.id)
        )
        return ReferralDetail(
            summary=summarise(ref, partnership),
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
    ref = find_referral(session, partnership, reference)
    if ref.purged_at is not None:
        raise UserError(
            f"{ref.reference} was closed long enough ago that its details were removed "
            "under the retention policy; only its counts remain."
        )
    detail = _detail(session, partnership, ref, cipher)
    audit.record_for(session, partnership, actor.slack_user_id, "view", ref.reference, now)
    session.flush()
    return detail


def export_referral(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    reference: str,
    *,
    now: dt.datetime,
    cipher: Cipher | None = None,
) -> dict[str, Any]:
    """One referral's full record (subject access request or handover); leads and admins."""
    require_lead(session, partnership, actor, "export", reference, now=now, admins_too=True)
    cipher = cipher or active_cipher()
    ref = find_referral(session, partnership, reference)
    s = summarise(ref, partnership)
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
        "exported_at": now.isoformat(),
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
    audit.record_for(session, partnership, actor.slack_user_id, "export", ref.reference, now)
    session.flush()
    return record
