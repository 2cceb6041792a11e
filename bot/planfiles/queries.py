"""Plan file queries: the objectives and meetings that import, export and rollover read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.plan.actions import with_actions
from bot.plan.queries import current_objectives_query
from store.models import Objective, Partnership, ProgressEntry


def has_objectives(session: Session, partnership_id: int) -> bool:
    """Whether the partnership has any objective, in any plan year."""
    found = session.scalars(
        select(Objective.id).where(Objective.partnership_id == partnership_id).limit(1)
    ).first()
    return found is not None


def plan_year_exists(session: Session, partnership_id: int, year: int) -> bool:
    """Whether the partnership has objectives in plan year ``year``."""
    found = session.scalars(
        select(Objective.id)
        .where(Objective.partnership_id == partnership_id, Objective.plan_year == year)
        .limit(1)
    ).first()
    return found is not None


def objectives_to_import_into(
    session: Session, partnership_id: int, year: int
) -> Sequence[Objective]:
    """Plan year ``year``'s objectives, with owners, schedule and meetings loaded."""
    return session.scalars(
        select(Objective)
        .where(Objective.partnership_id == partnership_id, Objective.plan_year == year)
        .options(*with_actions(), selectinload(Objective.meetings))
    ).all()


def objectives_to_roll_over(
    session: Session, partnership_id: int, year: int
) -> Sequence[Objective]:
    """Plan year ``year``'s objectives in plan order, with their actions loaded."""
    return session.scalars(
        select(Objective)
        .where(Objective.partnership_id == partnership_id, Objective.plan_year == year)
        .order_by(Objective.position, Objective.id)
        .options(*with_actions())
    ).all()


def objectives_to_export(session: Session, partnership: Partnership) -> Sequence[Objective]:
    """The current plan year's objectives in plan order, with their progress."""
    return session.scalars(current_objectives_query(partnership, with_progress=True)).all()


def has_progress(session: Session, objective_id: int) -> bool:
    """Whether any progress has been logged against the objective."""
    found = session.scalars(
        select(ProgressEntry.id).where(ProgressEntry.objective_id == objective_id).limit(1)
    ).first()
    return found is not None
