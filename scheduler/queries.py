"""The sweep's SQL: the fingerprint of the plan tables and the stored sweep gate."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from store.models import (
    Meeting,
    Member,
    Objective,
    ObjectiveOwner,
    Partnership,
    ProgressEntry,
    ScheduleItem,
    SweepGate,
)

GATE_NAME = "calendar"


def plan_fingerprint(session: Session) -> str:
    """A cheap digest of everything the calendar-driven sources read."""
    parts: list[object] = []
    parts.extend(
        session.execute(
            select(
                func.count(Objective.id),
                func.max(Objective.id),
                func.max(Objective.updated_at),
                func.count(Objective.snoozed_until),
                func.max(Objective.snoozed_until),
                func.min(Objective.snoozed_until),
                func.count(Objective.id).filter(Objective.status == "open"),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(ScheduleItem.id),
                func.max(ScheduleItem.id),
                func.count(ScheduleItem.done_at),
                func.max(ScheduleItem.done_at),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(ObjectiveOwner.id),
                func.max(ObjectiveOwner.id),
                func.count(ObjectiveOwner.slack_user_id),
            )
        ).one()
    )
    parts.extend(
        session.execute(select(func.count(ProgressEntry.id), func.max(ProgressEntry.id))).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(Member.id),
                func.max(Member.id),
                func.count(Member.id).filter(Member.role == "admin"),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                Meeting.id,
                Meeting.meeting_date,
                Meeting.start_time,
                Meeting.papers_due,
                Meeting.month,
                Meeting.objective_id,
            ).order_by(Meeting.id)
        ).all()
    )
    parts.extend(
        session.execute(
            select(
                Partnership.id,
                Partnership.timezone,
                Partnership.plan_year,
                Partnership.partnership_channel,
                Partnership.settings,
            ).order_by(Partnership.id)
        ).all()
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def all_partnerships(session: Session) -> list[Partnership]:
    return list(session.scalars(select(Partnership).order_by(Partnership.id)))


def stored_gate(session: Session) -> tuple[str, dt.datetime] | bool | None:
    """The gate kept in the database; False when its table is not there (yet)."""
    try:
        with session.begin_nested():
            row = session.get(SweepGate, GATE_NAME)
    except DBAPIError:
        return False
    return None if row is None else (row.fingerprint, row.planned_at)


def store_gate(session: Session, fingerprint: str, now: dt.datetime) -> bool:
    """Record a full plan in the same transaction as the rows it inserted."""
    try:
        with session.begin_nested():
            row = session.get(SweepGate, GATE_NAME, with_for_update=_on_pg(session))
            if row is None:
                session.add(SweepGate(name=GATE_NAME, fingerprint=fingerprint, planned_at=now))
            else:
                row.fingerprint = fingerprint
                row.planned_at = now
            session.flush()
    except DBAPIError:
        return False
    return True


def _on_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
