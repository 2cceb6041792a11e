"""Referral workflow: acknowledge, assign, refer on, case notes and closing, with their notices."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.members import Actor
from bot.referrals import audit, delivery_queries, queries
from bot.referrals.access import find_referral, require_lead
from bot.referrals.alerts import queue_delivery
from bot.referrals.crypto import Cipher, active_cipher
from bot.referrals.kinds import ASSIGNED_KIND, STATUS_KIND
from bot.referrals.models import ReferralSummary, StatusChange, summarise
from bot.referrals.vocabulary import ReferOn, Status
from store.models import Partnership, Referral, ReferralNote

# Status events the referrer hears of (not notes).
STATUS_EVENTS: Final = frozenset({"acknowledged", "assigned", "referred_on", "closed"})
# Status events that happen at most once per referral (their notices need no number).
ONE_TIME_EVENTS: Final = frozenset({"acknowledged", "closed"})


def summary_of(session: Session, partnership: Partnership, reference: str) -> ReferralSummary:
    """The contents-free summary (for alerts and status messages); no access check needed."""
    return summarise(find_referral(session, partnership, reference), partnership)


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
            queue_delivery(
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
            queue_delivery(
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
        summary=summarise(ref, partnership),
        changed=changed,
        referrer_slack_id=ref.referrer_slack_id,
        event=event,
        by=actor.slack_user_id,
        notices=tuple(notices),
    )


def _notice_seq(session: Session, ref: Referral, kind: str) -> int:
    """1 + how many notices of ``kind`` this referral has had (keys stay unique)."""
    return delivery_queries.count_notices(session, ref.id, kind) + 1


def _acknowledge(session: Session, ref: Referral, actor: Actor, now: dt.datetime) -> bool:
    """Acknowledge ``ref`` unless someone already has (decided by the store)."""
    if ref.acknowledged_at is not None:
        return False
    return queries.set_acknowledged(session, ref, by=actor.slack_user_id, now=now)


def acknowledge(
    session: Session, partnership: Partnership, actor: Actor, reference: str, *, now: dt.datetime
) -> StatusChange:
    require_lead(session, partnership, actor, "acknowledge", reference, now=now)
    ref = find_referral(session, partnership, reference)
    changed = _acknowledge(session, ref, actor, now)
    if changed:
        audit.record_for(
            session, partnership, actor.slack_user_id, "acknowledge", ref.reference, now
        )
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
    ref = find_referral(session, partnership, reference)
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
    changed = ref.assigned_to != who and queries.set_assigned(session, ref, who)
    _open_for_change(ref)
    if changed:
        audit.record_for(
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
    audit.record_for(
        session, partnership, actor.slack_user_id, "refer_on", ref.reference, now, f"to={to}"
    )
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
    audit.record_for(session, partnership, actor.slack_user_id, "note", ref.reference, now)
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
    closed = queries.set_closed(
        session,
        ref,
        outcome_enc=cipher.encrypt_json({"text": text, "by": actor.slack_user_id}),
        now=now,
    )
    if not closed:  # closed by someone else a moment ago
        _open_for_change(ref)
    audit.record_for(session, partnership, actor.slack_user_id, "close", ref.reference, now)
    session.flush()
    return _change(session, ref, partnership, True, "closed", actor, now)
