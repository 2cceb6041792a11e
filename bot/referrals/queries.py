"""Referral SQL: every statement on referrals, their case notes and the referral number lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, ScalarResult, case, func, or_, select, update
from sqlalchemy.orm import Session

from bot.plan.queries import LOCAL_USER
from bot.referrals.vocabulary import Status
from store.models import Member, Partnership, Referral, ReferralNote, Role

# --------------------------------------------------------------------------- lookups


def referral_by_reference(
    session: Session, partnership: Partnership, reference: str
) -> Referral | None:
    return session.scalars(
        select(Referral).where(
            Referral.partnership_id == partnership.id,
            Referral.reference == reference,
        )
    ).one_or_none()


def referral_by_id(session: Session, referral_id: int) -> Referral | None:
    return session.get(Referral, referral_id)


def partnership_by_id(session: Session, partnership_id: int) -> Partnership | None:
    return session.get(Partnership, partnership_id)


def all_partnerships(session: Session) -> ScalarResult[Partnership]:
    """Every partnership, in id order (a retention pass walks them all)."""
    return session.scalars(select(Partnership).order_by(Partnership.id))


def referral_by_submission_key(session: Session, key: str) -> Referral | None:
    return session.scalars(select(Referral).where(Referral.submission_key == key)).one_or_none()


def references_like(session: Session, partnership: Partnership, prefix: str) -> ScalarResult[str]:
    """The partnership's references that start with ``prefix``."""
    return session.scalars(
        select(Referral.reference).where(
            Referral.partnership_id == partnership.id, Referral.reference.like(f"{prefix}%")
        )
    )


# --------------------------------------------------------------------------- changes


def lock_referral_numbers(session: Session, partnership: Partnership) -> None:
    """Bump the partnership's referral counter; the lock this takes serialises creators."""
    session.execute(
        update(Partnership)
        .where(Partnership.id == partnership.id)
        .values(referral_seq=Partnership.referral_seq + 1)
    )


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


def set_acknowledged(session: Session, ref: Referral, *, by: str, now: dt.datetime) -> bool:
    """Acknowledge ``ref`` unless someone already has (an open one becomes acknowledged)."""
    return _set_if(
        session,
        ref,
        Referral.acknowledged_at.is_(None),
        acknowledged_at=now,
        acknowledged_by=by,
        status=case(
            (Referral.status == Status.OPEN.value, Status.ACKNOWLEDGED.value),
            else_=Referral.status,
        ),
    )


def set_assigned(session: Session, ref: Referral, who: str) -> bool:
    """Assign ``ref`` to ``who`` unless it already is theirs or has been closed."""
    return _set_if(
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


def set_closed(session: Session, ref: Referral, *, outcome_enc: bytes, now: dt.datetime) -> bool:
    """Close ``ref`` with its encrypted outcome unless someone already has."""
    return _set_if(
        session,
        ref,
        Referral.closed_at.is_(None),
        outcome_enc=outcome_enc,
        status=Status.CLOSED.value,
        closed_at=now,
    )


# --------------------------------------------------------------------------- lists


def open_referrals(session: Session, partnership: Partnership) -> ScalarResult[Referral]:
    """Referrals not closed, oldest first."""
    return session.scalars(
        select(Referral)
        .where(Referral.partnership_id == partnership.id, Referral.status != Status.CLOSED)
        .order_by(Referral.created_at)
    )


def notes_in_order(session: Session, referral_id: int) -> ScalarResult[ReferralNote]:
    return session.scalars(
        select(ReferralNote)
        .where(ReferralNote.referral_id == referral_id)
        .order_by(ReferralNote.id)
    )


def unacknowledged_referrals(session: Session, partnership: Partnership) -> list[Referral]:
    """Referrals nobody has acknowledged that are neither closed nor purged, in id order."""
    return list(
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


def lead_and_admin_ids(session: Session, partnership: Partnership) -> list[str]:
    """Slack ids of the members with the lead or admin role, in the order they joined."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.partnership_id == partnership.id,
                Member.role.in_([Role.LEAD.value, Role.ADMIN.value]),
                Member.slack_user_id != LOCAL_USER,  # the shell's user is nobody in Slack
            )
            .order_by(Member.id)
        )
    )


# --------------------------------------------------------------------------- counts


def count_opened_since(session: Session, partnership: Partnership, since: dt.datetime) -> int:
    base = select(func.count(Referral.id)).where(Referral.partnership_id == partnership.id)
    return session.scalar(base.where(Referral.created_at >= since)) or 0


def count_acknowledged_between(
    session: Session, partnership: Partnership, since: dt.datetime, until: dt.datetime
) -> int:
    base = select(func.count(Referral.id)).where(Referral.partnership_id == partnership.id)
    return (
        session.scalar(
            base.where(Referral.acknowledged_at >= since, Referral.acknowledged_at <= until)
        )
        or 0
    )


def count_not_closed(session: Session, partnership: Partnership) -> int:
    base = select(func.count(Referral.id)).where(Referral.partnership_id == partnership.id)
    return session.scalar(base.where(Referral.closed_at.is_(None))) or 0


def waiting_urgencies(
    session: Session, partnership: Partnership
) -> Sequence[Row[str, dt.datetime]]:
    """(urgency, created_at) of every referral open and not acknowledged."""
    return session.execute(
        select(Referral.urgency, Referral.created_at).where(
            Referral.partnership_id == partnership.id,
            Referral.acknowledged_at.is_(None),
            Referral.closed_at.is_(None),
        )
    ).all()


def opened_between(
    session: Session, partnership: Partnership, since: dt.datetime, until: dt.datetime
) -> Sequence[Row[str, str, dt.datetime, dt.datetime | None]]:
    """(category, urgency, created_at, acknowledged_at) of the referrals opened in
    ``since <= created_at < until``: plaintext columns only, never contents or references."""
    return session.execute(
        select(Referral.category, Referral.urgency, Referral.created_at, Referral.acknowledged_at)
        .where(
            Referral.partnership_id == partnership.id,
            Referral.created_at >= since,
            Referral.created_at < until,
        )
        .order_by(Referral.id)
    ).all()


def count_open_kept(session: Session, partnership: Partnership) -> int:
    """Referrals neither closed nor purged."""
    return (
        session.scalar(
            select(func.count(Referral.id)).where(
                Referral.partnership_id == partnership.id,
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
        )
        or 0
    )


def waiting_references(
    session: Session, partnership: Partnership
) -> Sequence[Row[str, str, dt.datetime]]:
    """(reference, urgency, created_at) of referrals awaiting acknowledgement, oldest first."""
    return session.execute(
        select(Referral.reference, Referral.urgency, Referral.created_at)
        .where(
            Referral.partnership_id == partnership.id,
            Referral.acknowledged_at.is_(None),
            Referral.closed_at.is_(None),
            Referral.purged_at.is_(None),
        )
        .order_by(Referral.created_at, Referral.id)
    ).all()


# --------------------------------------------------------------------------- retention


def closed_unpurged(session: Session, partnership: Partnership) -> ScalarResult[Referral]:
    return session.scalars(
        select(Referral).where(
            Referral.partnership_id == partnership.id,
            Referral.closed_at.is_not(None),
            Referral.purged_at.is_(None),
        )
    )


def notes_of(session: Session, referral_id: int) -> list[ReferralNote]:
    return list(
        session.scalars(select(ReferralNote).where(ReferralNote.referral_id == referral_id))
    )


# --------------------------------------------------------------------------- key rotation


def referrals_with_tokens(
    session: Session, columns: Sequence[str], *, newest_first: bool, limit: int
) -> ScalarResult[Referral]:
    """Up to ``limit`` referrals holding a token in any of ``columns``, oldest or newest."""
    has_any = or_(*(getattr(Referral, c).is_not(None) for c in columns))
    order = Referral.id.desc() if newest_first else Referral.id.asc()
    return session.scalars(select(Referral).where(has_any).order_by(order).limit(limit))


def all_referrals(session: Session) -> ScalarResult[Referral]:
    return session.scalars(select(Referral).order_by(Referral.id))


def all_notes(session: Session) -> ScalarResult[ReferralNote]:
    return session.scalars(select(ReferralNote).order_by(ReferralNote.id))


def count_referrals(session: Session) -> int:
    """How many referrals are stored, in every partnership, purged ones included."""
    return int(session.scalar(select(func.count(Referral.id))) or 0)
