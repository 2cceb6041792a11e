"""A sweep's dry run: what would be sent, rendered from unsaved rows, with nothing written."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, PlannedDelivery
from bot.notices.notice_policy import policy_for
from bot.notices.registry import renderer_for
from scheduler.delivery.planned_rows import existing_keys
from scheduler.delivery.records import pending_due
from scheduler.report import SweepReport, WouldSend
from store.models import Delivery, DeliveryStatus, Partnership


def _text_of(message: OutboundMessage | None) -> str:
    return message.text if message is not None else "(would be dropped: no longer relevant)"


def would_send_planned(
    session: Session,
    partnership: Partnership,
    planned: list[PlannedDelivery],
    now: dt.datetime,
    report: SweepReport,
) -> None:
    """Add to ``report`` what this sweep planned and the outbox does not have yet."""
    live = [
        p
        for p in planned
        if p.occurrence <= now and (p.useful_until is None or now < p.useful_until)
    ]
    known = existing_keys(session, [p.key for p in live])
    late_after = dt.timedelta(minutes=policy_for(partnership).late_after_minutes)
    seen: set[str] = set()
    for p in live:
        if p.key in known or p.key in seen:
            continue
        seen.add(p.key)
        row = Delivery(
            partnership_id=partnership.id,
            key=p.key,
            kind=p.kind,
            target=p.target,
            occurrence=p.occurrence,
            objective_id=p.objective_id,
            meeting_id=p.meeting_id,
            referral_id=p.referral_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            late=now - p.occurrence > late_after,
            payload=dict(p.payload),
            created_at=now,
        )
        renderer = renderer_for(p.kind)
        message = renderer(session, row, now) if renderer else None
        report.would_send.append(
            WouldSend(p.key, p.kind, p.target, p.occurrence, row.late, _text_of(message), True)
        )


def would_send_pending(session: Session, now: dt.datetime, report: SweepReport) -> None:
    """Add to ``report`` the rows already waiting in the outbox and due by ``now``."""
    for row in pending_due(session, now, limit=500):
        renderer = renderer_for(row.kind)
        message = renderer(session, row, now) if renderer else None
        report.would_send.append(
            WouldSend(
                row.key, row.kind, row.target, row.occurrence, row.late, _text_of(message), False
            )
        )
