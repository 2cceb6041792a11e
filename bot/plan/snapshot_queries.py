"""The plan snapshot's SQL: the fingerprint aggregate, the column reads, the latest stamp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from store.models import Action, Meeting, Objective, ObjectiveOwner, ProgressEntry, ScheduleItem

Fingerprint = tuple[Any, ...]


def latest_stamp(session: Session, partnership_id: int) -> dt.datetime | None:
    """The latest ``Objective.updated_at`` of the partnership (as stored)."""
    return session.scalar(
        select(func.max(Objective.updated_at)).where(Objective.partnership_id == partnership_id)
    )


def _fingerprint_query() -> Select[Any]:
    mine = (Objective.partnership_id == bindparam("pid"), Objective.plan_year == bindparam("year"))
    current = select(Objective.id).where(*mine)
    return select(
        select(func.count(Objective.id)).where(*mine).scalar_subquery(),
        select(func.max(Objective.updated_at))
        .where(Objective.partnership_id == bindparam("pid"))
        .scalar_subquery(),
        select(func.max(ProgressEntry.id)).scalar_subquery(),
        select(func.max(ScheduleItem.id)).scalar_subquery(),
        select(func.count(ScheduleItem.id))
        .where(ScheduleItem.objective_id.in_(current))
        .scalar_subquery(),
        select(func.max(ObjectiveOwner.id)).scalar_subquery(),
        select(func.count(ObjectiveOwner.id))
        .where(ObjectiveOwner.objective_id.in_(current))
        .scalar_subquery(),
        select(func.max(Meeting.id)).scalar_subquery(),
        select(func.count(Meeting.id)).where(Meeting.objective_id.in_(current)).scalar_subquery(),
    )


_FINGERPRINT = _fingerprint_query()  # built once; SQLAlchemy caches its compiled form


def plan_fingerprint(session: Session, partnership_id: int, plan_year: int) -> Fingerprint:
    """One round trip of aggregates that changes whenever the snapshot would."""
    return fingerprint_and_stamp(session, partnership_id, plan_year)[0]


def fingerprint_and_stamp(
    session: Session, partnership_id: int, plan_year: int
) -> tuple[Fingerprint, dt.datetime | None]:
    """:func:`plan_fingerprint`, and the latest ``Objective.updated_at`` of the
    partnership as stored (the same round trip)."""
    row = session.execute(_FINGERPRINT, {"pid": partnership_id, "year": plan_year}).one()
    fingerprint = tuple(str(value) if isinstance(value, dt.datetime) else value for value in row)
    return fingerprint, row[1]


def after_progress(fingerprint: Fingerprint, stamp: dt.datetime, entry_id: int) -> Fingerprint:
    """The fingerprint after progress entries up to ``entry_id`` were added and
    objectives stamped, the last with ``stamp``, the latest of all, when nothing else
    changed (the caller has held the write lock since it read ``fingerprint``): the
    latest stamp and the latest entry id move, and nothing else. The stamp reads back
    from the store as the same instant in UTC, which is how the query shows it. Keep it
    in step with the query."""
    return (fingerprint[0], str(stamp.astimezone(dt.UTC)), entry_id, *fingerprint[3:])


def _current_ids(partnership_id: int, plan_year: int) -> Select[int]:
    return select(Objective.id).where(
        Objective.partnership_id == partnership_id, Objective.plan_year == plan_year
    )


def objective_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, str, str | None, str, bool, str]]:
    """(id, title, rag, status, needs_dating, timescale_text) of the plan year, in order."""
    return session.execute(
        select(
            Objective.id,
            Objective.title,
            Objective.rag,
            Objective.status,
            Objective.needs_dating,
            Objective.timescale_text,
        )
        .where(Objective.partnership_id == partnership_id, Objective.plan_year == plan_year)
        .order_by(Objective.position, Objective.id)
    ).all()


def owner_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, str, str | None, int]]:
    """(objective id, label, Slack ID, action id) of the plan year's owners, oldest first."""
    return session.execute(
        select(
            ObjectiveOwner.objective_id,
            ObjectiveOwner.label,
            ObjectiveOwner.slack_user_id,
            ObjectiveOwner.action_id,
        )
        .where(ObjectiveOwner.objective_id.in_(_current_ids(partnership_id, plan_year)))
        .order_by(ObjectiveOwner.id)
    ).all()


def item_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[
    Row[
        int,
        str,
        dt.date | None,
        str | None,
        bool,
        str | None,
        str,
        dt.datetime | None,
        dt.date | None,
        int,
    ]
]:
    """(objective id, kind, due_on, body, month_only, rrule, source_text, done_at,
    created_on, action id) of the plan year's schedule items, in schedule order."""
    return session.execute(
        select(
            ScheduleItem.objective_id,
            ScheduleItem.kind,
            ScheduleItem.due_on,
            ScheduleItem.body,
            ScheduleItem.month_only,
            ScheduleItem.rrule,
            ScheduleItem.source_text,
            ScheduleItem.done_at,
            ScheduleItem.created_on,
            ScheduleItem.action_id,
        )
        .where(ScheduleItem.objective_id.in_(_current_ids(partnership_id, plan_year)))
        .order_by(ScheduleItem.objective_id, ScheduleItem.position, ScheduleItem.id)
    ).all()


def action_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, int, int, str, str, str | None, bool, str]]:
    """(objective id, id, position, text, status, rag, needs_dating, timescale_text) of
    the plan year's actions, in order."""
    return session.execute(
        select(
            Action.objective_id,
            Action.id,
            Action.position,
            Action.text,
            Action.status,
            Action.rag,
            Action.needs_dating,
            Action.timescale_text,
        )
        .where(Action.objective_id.in_(_current_ids(partnership_id, plan_year)))
        .order_by(Action.objective_id, Action.position, Action.id)
    ).all()


def meeting_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, int | None, str, dt.date, dt.date | None]]:
    """(id, objective id, body, month, meeting_date) of meetings linked to the plan year."""
    return session.execute(
        select(Meeting.id, Meeting.objective_id, Meeting.body, Meeting.month, Meeting.meeting_date)
        .where(Meeting.objective_id.in_(_current_ids(partnership_id, plan_year)))
        .order_by(Meeting.month, Meeting.id)
    ).all()


def last_progress_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, dt.datetime | None]]:
    """(objective id, latest progress logged at) for the plan year's objectives."""
    return session.execute(
        select(ProgressEntry.objective_id, func.max(ProgressEntry.created_at))
        .where(ProgressEntry.objective_id.in_(_current_ids(partnership_id, plan_year)))
        .group_by(ProgressEntry.objective_id)
    ).all()
