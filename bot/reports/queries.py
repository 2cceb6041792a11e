"""The scrutiny pack's SQL: objectives' texts, progress up to a day, meetings in a window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from store.models import Meeting, Member, Objective, ProgressEntry


def objective_texts(
    session: Session, partnership_id: int, plan_year: int
) -> dict[int, tuple[str, str | None]]:
    """objective id -> (action text, statutory basis) for one plan year."""
    rows = session.execute(
        select(Objective.id, Objective.action_text, Objective.statutory_basis).where(
            Objective.partnership_id == partnership_id, Objective.plan_year == plan_year
        )
    ).all()
    return {row[0]: (row[1] or "", row[2]) for row in rows}


def progress_rows(
    session: Session, partnership_id: int, plan_year: int
) -> Sequence[Row[int, dt.datetime, str, str | None, bool, str, int]]:
    """(objective id, created_at, author, rag, done, note, action id) of every progress
    entry on the plan year's objectives, oldest first."""
    return session.execute(
        select(
            ProgressEntry.objective_id,
            ProgressEntry.created_at,
            ProgressEntry.author,
            ProgressEntry.rag,
            ProgressEntry.done,
            ProgressEntry.note,
            ProgressEntry.action_id,
        )
        .join(Objective, Objective.id == ProgressEntry.objective_id)
        .where(
            Objective.partnership_id == partnership_id,
            Objective.plan_year == plan_year,
        )
        .order_by(ProgressEntry.created_at, ProgressEntry.id)
    ).all()


def meetings_between(
    session: Session, partnership_id: int, first: dt.date, last: dt.date
) -> list[Meeting]:
    """Meetings programmed for a month from ``first``'s to ``last``'s, by month and body."""
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.partnership_id == partnership_id,
                Meeting.month >= first.replace(day=1),
                Meeting.month <= last,
            )
            .order_by(Meeting.month, Meeting.meeting_date, Meeting.body)
        )
    )


def member_names(session: Session, partnership_id: int) -> dict[str, str]:
    """Slack user id -> display name, for the members who have one."""
    rows = session.execute(
        select(Member.slack_user_id, Member.display_name).where(
            Member.partnership_id == partnership_id, Member.display_name.is_not(None)
        )
    ).all()
    return {row[0]: str(row[1]) for row in rows if row[1]}
