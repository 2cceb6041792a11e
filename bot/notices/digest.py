"""The weekly digest: its read model built from the plan, its source and its renderer.

Posted to the partnership channel once per ISO week (delivery kind ``digest``, key per
week) at the partnership's digest time (default Monday 09:00 local). Safeguarding
referrals appear as counts only, never details (``bot.referrals.counts.referral_counts``).
The read model is :mod:`bot.notices.digest_model`, its blocks :mod:`bot.notices.digest_blocks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
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
from bot.plan.actions import scopes
from bot.plan.meetings import upcoming_meetings
from bot.plan.models import DueItem
from bot.plan.queries import current_objectives
from bot.plan.reading import (
    action_done_days,
    overdue_due_items,
    progress_facts,
    upcoming_due_items,
)
from bot.plan.schedule import reminder_policy
from bot.plan.standing import how_actions_stand
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
    objectives = current_objectives(session, partnership)
    rag_counts = {"red": 0, "amber": 0, "green": 0, "none": 0, "done": 0}
    overdue: list[DueItem] = []
    due_soon: list[DueItem] = []
    titles: dict[int, str] = {}
    # The one overdue rule (bot.plan.schedule.overdue_items), as `/csp due` and the notices use.
    # Each action of an objective with several is read on its own (its own "done" days);
    # the counts are of objectives, by their roll-up.
    facts = replace(
        progress_facts(session, partnership, (o.id for o in objectives)),
        action_done_days=action_done_days(session, partnership, objectives),
    )
    policy = reminder_policy(partnership)
    numbers: dict[int, int] = {}  # action id -> its number, for objectives with several
    standings: list[tuple[str, str]] = []
    for objective in objectives:
        titles[objective.id] = objective.title
        if objective.status != ObjectiveStatus.OPEN:
            rag_counts["done"] += 1
        else:
            rag = objective.rag or "none"
            rag_counts[rag] = rag_counts.get(rag, 0) + 1
        if len(objective.actions) > 1:
            numbers.update((a.id, a.position) for a in objective.actions)
            standings.append(
                (objective.title, how_actions_stand([(a.status, a.rag) for a in objective.actions]))
            )
        for scope in scopes(objective):
            overdue.extend(
                overdue_due_items(
                    scope, today, facts, policy, action_id=scope.action_id, action=scope.action
                )
            )
            due_soon.extend(upcoming_due_items(scope, today, DUE_DAYS, action=scope.action))
    overdue.sort(key=lambda d: (d.due_on, d.title))
    due_soon.sort(key=lambda d: (d.due_on, d.title))
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
