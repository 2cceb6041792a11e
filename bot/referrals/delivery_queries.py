"""Referral delivery SQL: the outbox rows a referral's alerts and notices are queued as."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND, NO_LEADS_KIND, RECEIPT_KIND
from store.models import Delivery, DeliveryStatus, Partnership


def delivery_key_exists(session: Session, key: str) -> bool:
    return session.scalar(select(Delivery.id).where(Delivery.key == key)) is not None


def first_alert_rows(session: Session, referral_id: int) -> list[Delivery]:
    """The alert, DM alert, no-leads and receipt rows queued with a referral, in order."""
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.referral_id == referral_id,
                Delivery.kind.in_([ALERT_KIND, ALERT_DM_KIND, NO_LEADS_KIND, RECEIPT_KIND]),
            )
            .order_by(Delivery.id)
        )
    )


def fresh_delivery(session: Session, key: str) -> Delivery | None:
    """The row keyed ``key`` as the database has it now.

    The row may have been claimed or settled by a bulk update (the outbox's
    compare-and-set) since this session loaded it, so its loaded state is refreshed.
    """
    return session.scalars(
        select(Delivery).where(Delivery.key == key).execution_options(populate_existing=True)
    ).first()


def posted_alert(session: Session, referral_id: int) -> Delivery | None:
    """A channel alert row of the referral that Slack gave a ``ts``."""
    return session.scalars(
        select(Delivery).where(
            Delivery.referral_id == referral_id,
            Delivery.kind == ALERT_KIND,
            Delivery.slack_ts.is_not(None),
        )
    ).first()


def count_notices(session: Session, referral_id: int, kind: str) -> int:
    count = session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.referral_id == referral_id, Delivery.kind == kind
        )
    )
    return int(count or 0)


def channel_alert_statuses(
    session: Session, partnership: Partnership, referral_ids: Iterable[int]
) -> Sequence[Row[int | None, DeliveryStatus]]:
    """(referral id, status) of the channel alert rows of ``referral_ids``."""
    return session.execute(
        select(Delivery.referral_id, Delivery.status).where(
            Delivery.partnership_id == partnership.id,
            Delivery.kind == ALERT_KIND,
            Delivery.referral_id.in_(list(referral_ids)),
        )
    ).all()


def alert_statuses(session: Session, referral_id: int) -> Sequence[Row[str, DeliveryStatus]]:
    """(kind, status) of the referral's channel alert, DM alert and no-leads rows."""
    return session.execute(
        select(Delivery.kind, Delivery.status).where(
            Delivery.referral_id == referral_id,
            Delivery.kind.in_([ALERT_KIND, ALERT_DM_KIND, NO_LEADS_KIND]),
        )
    ).all()
