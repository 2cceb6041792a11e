"""The SQL of the files people read (workbook, calendar): members' names, meetings, progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.plan.queries import current_objectives_query
from store.models import Meeting, Member, Objective, Partnership


def members_by_id(session: Session, partnership_id: int, ids: Iterable[str]) -> dict[str, Member]:
    """The partnership's member rows for the Slack ``ids`` that have one."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Member).where(
            Member.partnership_id == partnership_id, Member.slack_user_id.in_(wanted)
        )
    )
    return {m.slack_user_id: m for m in rows}


def objectives_with_progress(session: Session, partnership: Partnership) -> list[Objective]:
    """The current plan year's objectives in plan order, with owners, schedule, meetings
    and every progress entry loaded."""
    return list(session.scalars(current_objectives_query(partnership, with_progress=True)))


def plan_meetings(
    session: Session,
    partnership_id: int,
    objectives: Iterable[Objective],
    first: dt.date,
    before: dt.date,
) -> list[Meeting]:
    """The meetings of ``objectives`` and the partnership's other meetings programmed
    for months from ``first`` up to ``before``, in date order (undated ones by their
    month), then by body."""
    found = {m.id: m for o in objectives for m in o.meetings}
    others = session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership_id,
            Meeting.objective_id.is_(None),
            Meeting.month >= first,
            Meeting.month < before,
        )
    )
    found.update((m.id, m) for m in others)
    return sorted(
        found.values(),
        key=lambda m: (m.meeting_date or m.month, m.start_time or dt.time(), m.body),
    )


def meeting_stamp(session: Session, partnership_id: int) -> tuple[tuple[object, ...], ...]:
    """Every meeting's id, date, time and place: what a cached calendar must match."""
    return tuple(
        tuple(row)
        for row in session.execute(
            select(Meeting.id, Meeting.meeting_date, Meeting.start_time, Meeting.place)
            .where(Meeting.partnership_id == partnership_id)
            .order_by(Meeting.id)
        )
    )


def all_partnerships(session: Session) -> list[Partnership]:
    return list(session.scalars(select(Partnership).order_by(Partnership.id)))
