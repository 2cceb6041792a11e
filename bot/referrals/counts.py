"""Referral counts for the digest, a lead's App Home and the scrutiny pack: contents-free."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.plan.members import Actor
from bot.plan.schedule import partnership_calendar
from bot.referrals import queries
from bot.referrals.escalation import first_deadline
from bot.referrals.models import (
    LeadHomeReferrals,
    PeriodReferralCounts,
    ReferralCounts,
    WaitingReferral,
)
from store.models import Partnership


def referral_counts(
    session: Session, partnership: Partnership, now: dt.datetime, *, days: int = 7
) -> ReferralCounts:
    """Counts for the digest: opened and acknowledged in the last ``days``, and overdue."""
    since = now - dt.timedelta(days=days)
    opened = queries.count_opened_since(session, partnership, since)
    acknowledged = queries.count_acknowledged_between(session, partnership, since, now)
    open_total = queries.count_not_closed(session, partnership)
    zone = ZoneInfo(partnership.timezone)
    cal = partnership_calendar(partnership)
    waiting = queries.waiting_urgencies(session, partnership)
    overdue = sum(1 for u, c in waiting if first_deadline(u, c, zone, cal) <= now)
    return ReferralCounts(
        opened=opened,
        acknowledged=acknowledged,
        awaiting_past_deadline=overdue,
        open_total=open_total,
    )


def home_referrals(
    session: Session, partnership: Partnership, actor: Actor, *, now: dt.datetime, limit: int = 5
) -> LeadHomeReferrals | None:
    """What a lead's App Home shows of referrals (None for anyone else: they see nothing).

    Counts and references only, so nothing is audited: no contents are read.
    """
    if not actor.is_lead:
        return None
    zone = ZoneInfo(partnership.timezone)
    cal = partnership_calendar(partnership)
    open_total = queries.count_open_kept(session, partnership)
    waiting = [
        WaitingReferral(
            reference=reference,
            urgency=urgency,
            created_at=created,
            overdue=first_deadline(urgency, created, zone, cal) <= now,
        )
        for reference, urgency, created in queries.waiting_references(session, partnership)
    ]
    return LeadHomeReferrals(
        open_total=int(open_total),
        awaiting=len(waiting),
        overdue=sum(1 for w in waiting if w.overdue),
        oldest_waiting=tuple(waiting[:limit]),
        now=now,
        zone=partnership.timezone,
    )


def period_referral_counts(
    session: Session,
    partnership: Partnership,
    since: dt.datetime,
    until: dt.datetime,
    *,
    judged_at: dt.datetime | None = None,
) -> PeriodReferralCounts:
    """Referrals opened in ``since <= created_at < until``, counted by category, urgency
    and whether they were acknowledged within the first deadline, as things stood at
    ``judged_at`` (default ``until``).

    Reads only plaintext columns, so it needs no encryption key and audits nothing."""
    zone = ZoneInfo(partnership.timezone)
    cal = partnership_calendar(partnership)
    categories: Counter[str] = Counter()
    urgencies: Counter[str] = Counter()
    clock: Counter[str] = Counter()
    judged = judged_at or until
    rows = queries.opened_between(session, partnership, since, until)
    for category, urgency, created, acknowledged in rows:
        categories[category] += 1
        urgencies[urgency] += 1
        deadline = first_deadline(urgency, created, zone, cal)
        if acknowledged is not None and acknowledged < judged:
            clock["in_time" if acknowledged <= deadline else "late"] += 1
        else:
            clock["waiting_late" if deadline <= judged else "waiting"] += 1
    return PeriodReferralCounts(
        total=len(rows),
        by_category=dict(categories),
        by_urgency=dict(urgencies),
        acknowledged_in_time=clock["in_time"],
        acknowledged_late=clock["late"],
        waiting_in_time=clock["waiting"],
        waiting_late=clock["waiting_late"],
    )
