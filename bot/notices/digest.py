"""The weekly digest: its read model built from the plan, its source and its renderer.

Posted to the partnership channel once per ISO week (delivery kind ``digest``, key per
week) at the partnership's digest time (default Monday 09:00 local). Safeguarding
referrals appear as counts only, never details (``bot.referrals.counts.referral_counts``).
The read model is :mod:`bot.notices.digest_model`, its blocks :mod:`bot.notices.digest_blocks`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, PlannedDelivery
from bot.notices.digest_model import (
    DUE_DAYS,
    MEETING_DAYS,
    PROGRESS_DAYS,
    Digest,
    ProgressLine,
    ReferralCounts,
)
from bot.notices.notice_policy import policy_for
from bot.notices.queries import partnership_by_id, progress_since
from bot.plan import readcache
from bot.plan.meetings import upcoming_meetings
from bot.plan.reading import due_list, facts_of
from bot.plan.schedule import partnership_calendar, reminder_policy
from bot.plan.standing import standings_of
from bot.plan.years import local_date
from bot.referrals.counts import referral_counts
from bot.time.policy import digest_occurrence, held_for_working_hours
from store.models import Delivery, ObjectiveStatus, Partnership


def _referral_counts(
    session: Session, partnership: Partnership, now: dt.datetime
) -> ReferralCounts:
    counts = referral_counts(session, partnership, now)
    return ReferralCounts(
        opened=int(counts.opened),
        acknowledged=int(counts.acknowledged),
        awaiting_past_deadline=int(counts.awaiting_past_deadline),
    )


def build_digest(session: Session, partnership: Partnership, now: dt.datetime) -> Digest:
    """Everything the weekly digest shows, as of ``now``."""
    zone = ZoneInfo(partnership.timezone)
    today = local_date(now, zone)
    # The plan snapshot `/csp due` reads (loaded once here), and the one overdue rule
    # (bot.plan.schedule.overdue_items) per action, as the views and the notices use it.
    objectives = readcache.plan_snapshot(session, partnership.id, partnership.plan_year).objectives
    facts = facts_of(session, partnership, objectives)
    policy, cal = reminder_policy(partnership), partnership_calendar(partnership)
    items = due_list(objectives, today, DUE_DAYS, facts, policy, cal)
    overdue = [i for i in items if i.overdue]
    due_soon = [i for i in items if not i.overdue]
    rag_counts = {"red": 0, "amber": 0, "green": 0, "none": 0, "done": 0}
    for objective in objectives:  # objectives counted by their roll-up
        if objective.status != ObjectiveStatus.OPEN:
            rag_counts["done"] += 1
        else:
            rag = objective.rag or "none"
            rag_counts[rag] = rag_counts.get(rag, 0) + 1
    titles = {o.id: o.title for o in objectives}
    numbers = {  # action id -> its number, for objectives with several
        a.id: a.position for o in objectives if len(o.actions) > 1 for a in o.actions
    }
    stand = standings_of(objectives)
    standings = [(o.title, stand[o.id]) for o in objectives if o.id in stand]
    since = now - dt.timedelta(days=PROGRESS_DAYS)
    progress_rows = progress_since(session, partnership, since, limit=200)
    progress = tuple(
        ProgressLine(
            at=e.created_at,
            author=e.author,
            slack_user_id=e.slack_user_id,
            objective_title=titles.get(e.objective_id) or e.objective.title,
            rag=e.rag,
            done=e.done,
            note=e.note,
            action=numbers.get(e.action_id),
        )
        for e in progress_rows
    )
    meetings = tuple(upcoming_meetings(session, partnership, today, MEETING_DAYS))
    return Digest(
        partnership_name=partnership.name,
        today=today,
        rag_counts=rag_counts,
        total=len(objectives),
        overdue=tuple(overdue),
        due_soon=tuple(due_soon),
        progress=progress,
        meetings=meetings,
        referrals=_referral_counts(session, partnership, now),
        zone=partnership.timezone,
        standings=tuple(standings),
    )


def digest_source(
    session: Session, partnership: Partnership, now: dt.datetime
) -> list[PlannedDelivery]:
    """This week's digest for the partnership channel, once its time has come."""
    if not partnership.partnership_channel:
        return []
    policy = policy_for(partnership)
    zone = ZoneInfo(partnership.timezone)
    found = digest_occurrence(now, policy, zone)
    if found is None:
        return []
    week, at, until = found
    if held_for_working_hours(at, now, policy, zone):
        return []  # a late digest waits for working hours, like every catch-up notice
    return [
        PlannedDelivery(
            key=f"digest:p{partnership.id}:{week}",
            kind="digest",
            target=partnership.partnership_channel,
            occurrence=at,
            payload={"week": week},
            useful_until=until,
        )
    ]


def render_digest(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage:
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.notices.digest_blocks import build_digest_blocks, digest_text

    partnership = partnership_by_id(session, delivery.partnership_id)
    assert partnership is not None
    digest = build_digest(session, partnership, now)
    return OutboundMessage(text=digest_text(digest), blocks=build_digest_blocks(digest))
