"""The SQL of what is due: the plan rows reminder, meeting, failure and digest notices read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.plan.actions import with_actions
from bot.plan.queries import LOCAL_USER
from store.models import (
    Delivery,
    Meeting,
    Member,
    Objective,
    ObjectiveStatus,
    Partnership,
    ProgressEntry,
    Referral,
    Role,
)


def open_objectives(session: Session, partnership: Partnership) -> list[Objective]:
    """The current plan year's open objectives in plan order, owners and schedule loaded."""
    return list(
        session.scalars(
            select(Objective)
            .where(
                Objective.partnership_id == partnership.id,
                Objective.plan_year == partnership.plan_year,
                Objective.status == ObjectiveStatus.OPEN,
            )
            .order_by(Objective.position, Objective.id)
            .options(*with_actions())
        )
    )


def last_progress_at(
    session: Session, objective_ids: Sequence[int]
) -> list[tuple[int, dt.datetime | None]]:
    """(objective id, when progress was last logged) for those with any progress."""
    return [
        (oid, at)
        for oid, at in session.execute(
            select(ProgressEntry.objective_id, func.max(ProgressEntry.created_at))
            .where(ProgressEntry.objective_id.in_(objective_ids))
            .group_by(ProgressEntry.objective_id)
        )
    ]


def meetings_between(
    session: Session, partnership: Partnership, first_month: dt.date, last_day: dt.date
) -> Sequence[Meeting]:
    """The partnership's meetings whose month falls from ``first_month`` to ``last_day``."""
    return session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership.id,
            Meeting.month >= first_month,
            Meeting.month <= last_day,
        )
    ).all()


def admin_ids(session: Session, partnership_id: int) -> list[str]:
    """The Slack IDs of the partnership's admins, oldest first."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.partnership_id == partnership_id,
                Member.role == Role.ADMIN,
                Member.slack_user_id != LOCAL_USER,  # the shell's user is nobody in Slack
            )
            .order_by(Member.id)
        )
    )


def objective_by_id(session: Session, objective_id: int) -> Objective | None:
    return session.get(Objective, objective_id)


def meeting_by_id(session: Session, meeting_id: int) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def partnership_by_id(session: Session, partnership_id: int) -> Partnership | None:
    return session.get(Partnership, partnership_id)


def progress_since(
    session: Session, partnership: Partnership, since: dt.datetime, *, limit: int = 200
) -> Sequence[ProgressEntry]:
    """Progress logged on the partnership's objectives since ``since``, newest first."""
    return session.scalars(
        select(ProgressEntry)
        .join(Objective, Objective.id == ProgressEntry.objective_id)
        .where(Objective.partnership_id == partnership.id, ProgressEntry.created_at >= since)
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(limit)
    ).all()


def partnerships_with_waiting_referrals(session: Session) -> set[int]:
    """Partnerships with a referral still waiting for acknowledgement.

    Escalations are only ever proposed for such referrals (see
    ``bot.referrals.escalation.escalation_source``), so the source is not asked about the others:
    one query for every partnership instead of one per partnership per sweep.
    """
    return set(
        session.scalars(
            select(Referral.partnership_id)
            .where(
                Referral.acknowledged_at.is_(None),
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
            .distinct()
        )
    )


def digest_posted_since(
    session: Session, partnership_id: int, target: str, since: dt.datetime
) -> bool:
    """Whether a digest to ``target`` has been planned since ``since``."""
    found = session.scalars(
        select(Delivery.id)
        .where(
            Delivery.partnership_id == partnership_id,
            Delivery.kind == "digest",
            Delivery.target == target,
            Delivery.created_at >= since,
        )
        .limit(1)
    ).first()
    return found is not None
