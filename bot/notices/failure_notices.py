"""Failure notices: the admins' DM about a delivery that failed for good, and its renderer."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from bot.deliveries import DeliveryKind, OutboundMessage, PlannedDelivery
from bot.notices.queries import admin_ids
from store.models import Delivery

FAILURE_KIND: Final[DeliveryKind] = "delivery_failed"


def failure_notices(
    session: Session,
    partnership_id: int,
    *,
    reason: str,
    failed_target: str,
    failed_kind: str,
    now: dt.datetime,
) -> list[PlannedDelivery]:
    """One DM per admin per (failure reason, target): keyed, so admins hear once."""
    admins = admin_ids(session, partnership_id)
    return [
        PlannedDelivery(
            key=f"fail:p{partnership_id}:{reason}:{failed_target}:{admin}",
            kind=FAILURE_KIND,
            target=admin,
            occurrence=now,
            payload={"reason": reason, "failed_target": failed_target, "failed_kind": failed_kind},
            useful_until=now + dt.timedelta(days=7),
        )
        for admin in admins
        if admin != failed_target
    ]


def render_failure(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage:
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.slack.delivery_failures import (
        DeliveryFailureView,
        build_delivery_failure_blocks,
        failure_text,
    )

    view = DeliveryFailureView(
        reason=str(delivery.payload.get("reason", "unknown")),
        target=str(delivery.payload.get("failed_target", "")),
        kind=str(delivery.payload.get("failed_kind", "reminder")),
        failed_at=now,
    )
    return OutboundMessage(text=failure_text(view), blocks=build_delivery_failure_blocks(view))
