"""Referral escalation: the working-day clocks and the deliveries they propose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.deliveries import PlannedDelivery
from bot.plan.schedule import partnership_calendar
from bot.referrals import delivery_queries, queries
from bot.referrals.access import safeguarding_lead_ids
from bot.referrals.alerts import alert_payload
from bot.referrals.availability import referrals_available
from bot.referrals.kinds import ALERT_DM_KIND, ESCALATION_KIND
from bot.referrals.vocabulary import Urgency
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import DeliveryStatus, Partnership, Referral


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


_MAX_STEPS_WALKED: Final = 20_000


def escalation_source(
    session: Session, partnership: Partnership, now: dt.datetime
) -> Iterable[PlannedDelivery]:
    """Escalations for referrals nobody has acknowledged, one DM per lead and admin per step.

    Only the latest step that has come due is proposed (with the next step as
    its ``useful_until``); its key ``refesc:<id>:<step>:<user>`` makes each step
    go out exactly once. Payload: reference, category, urgency, step. Nothing else.
    Without the referral key nothing is proposed: stored referrals are left alone.
    """
    if not referrals_available():
        return []
    refs = queries.unacknowledged_referrals(session, partnership)
    if not refs:
        return []
    targets = queries.lead_and_admin_ids(session, partnership)
    zone = ZoneInfo(partnership.timezone)
    cal = partnership_calendar(partnership)
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
    :func:`bot.referrals.records.create_referral` uses, so each lead gets each alert once.
    """
    leads = safeguarding_lead_ids(session, partnership)
    if not leads:
        return []
    live = {DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.SENT}
    reached: set[int] = set()
    for referral_id, status in delivery_queries.channel_alert_statuses(
        session, partnership, [r.id for r in refs]
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
            payload=alert_payload(ref),
        )
        for ref in refs
        if ref.id not in reached
        for lead in leads
    ]
