"""Referral alerts: where a new referral's alert goes, queueing it and DM fallbacks, its outcome."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy.orm import Session

from bot.referrals import delivery_queries
from bot.referrals.access import admin_ids, find_referral, safeguarding_lead_ids
from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND, NO_LEADS_KIND
from bot.referrals.models import AlertDelivery
from bot.referrals.vocabulary import AlertRoute
from store.models import Delivery, DeliveryStatus, Partnership, Referral

log = logging.getLogger(__name__)

# How long a queued alert or notice waits for the handler to claim and post it before
# the outbox takes it (the handler claims it at once; this covers a process that dies
# first).
ALERT_GRACE: Final = dt.timedelta(minutes=2)


def alert_payload(ref: Referral) -> dict[str, Any]:
    """What an alert or notice row carries: the reference and labels, never contents."""
    return {
        "reference": ref.reference,
        "category": ref.category,
        "urgency": ref.urgency,
        "group": ref.subject_group,
    }


def queue_delivery(
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
    if not delivery_queries.delivery_key_exists(session, key):
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
                payload={**alert_payload(ref), **(extra or {})},
                created_at=now,
            )
        )
    return AlertDelivery(key=key, target=target)


def queue_direct(
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
            queue_delivery(
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
        queue_delivery(
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
    ref = find_referral(session, partnership, reference)
    row = delivery_queries.fresh_delivery(session, f"refalert:{ref.id}")
    if row is not None and row.status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT):
        row.status = DeliveryStatus.FAILED
        row.last_error = f"safeguarding channel refused the alert: {reason}"[:500]
        row.claimed_until = None
    route, alerts = queue_direct(
        session,
        partnership,
        ref,
        leads=safeguarding_lead_ids(session, partnership, leads),
        admins=admin_ids(session, partnership, admins),
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
    ref = find_referral(session, partnership, reference)
    ref.alert_channel = channel
    ref.alert_ts = ts
    row = delivery_queries.fresh_delivery(session, f"refalert:{ref.id}")
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
    ref = find_referral(session, partnership, reference)
    if ref.alert_channel and ref.alert_ts:
        return ref.alert_channel, ref.alert_ts
    row = delivery_queries.posted_alert(session, ref.id)
    if row is not None and row.slack_channel and row.slack_ts:
        return row.slack_channel, row.slack_ts
    return None


def alert_outcome(session: Session, referral_id: int) -> tuple[str, bool]:
    """What became of a referral's alert so far, as its receipt tells it.

    Returns (outcome, admins told): outcome is one of the values of
    ``bot.slack.referral_alerts.AlertOutcome``: "channel" or "direct" once an alert went,
    "nobody" when no lead could be alerted (admins told if any admin notice was
    queued), "unreachable" when every lead's DM failed for good, else "retrying".
    """
    rows = delivery_queries.alert_statuses(session, referral_id)
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
