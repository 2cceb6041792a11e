"""The plan's SQL: partnership, members, objectives, progress and meetings, by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.plan.actions import with_actions
from store.models import (
    Action,
    Meeting,
    Member,
    Objective,
    Partnership,
    ProgressEntry,
    Role,
    ScheduleItem,
)

# --------------------------------------------------------------------------- members


def partnership_named(session: Session, name: str) -> Partnership | None:
    return session.scalars(select(Partnership).where(Partnership.name == name)).one_or_none()


def first_partnership(session: Session) -> Partnership | None:
    """The oldest partnership: the one a single-partnership database serves, whatever
    name `/csp setup` gave it."""
    return session.scalars(select(Partnership).order_by(Partnership.id).limit(1)).first()


def _member_query(partnership_id: int, slack_user_id: str) -> Select[Member]:
    return select(Member).where(
        Member.partnership_id == partnership_id, Member.slack_user_id == slack_user_id
    )


def find_member(session: Session, partnership_id: int, slack_user_id: str) -> Member | None:
    return session.scalars(_member_query(partnership_id, slack_user_id)).one_or_none()


def member_facts(
    session: Session, partnership_id: int, slack_user_ids: Sequence[str]
) -> list[tuple[str, str, str | None, dt.datetime | None, bool]]:
    """(Slack id, role, display name, when the name was read from Slack, lead flag) of
    those members, read without loading the rows."""
    if not slack_user_ids:
        return []
    rows = session.execute(
        _MEMBER_FACTS, {"pid": partnership_id, "users": list(slack_user_ids)}
    ).all()
    return [(r[0], str(r[1]), r[2], r[3], bool(r[4])) for r in rows]


# Built once, on the table: asked for each person the app has not seen lately, so a
# burst of newcomers costs no statement building (or ORM work) each.
_MEMBER = cast(Table, Member.__table__)
_MEMBER_FACTS = select(
    _MEMBER.c.slack_user_id,
    _MEMBER.c.role,
    _MEMBER.c.display_name,
    _MEMBER.c.display_name_at,
    _MEMBER.c.safeguarding_lead,
).where(
    _MEMBER.c.partnership_id == bindparam("pid"),
    _MEMBER.c.slack_user_id.in_(bindparam("users", expanding=True)),
)


def the_member(session: Session, partnership_id: int, slack_user_id: str) -> Member:
    """The member row that must exist (another request has just committed it)."""
    return session.scalars(_member_query(partnership_id, slack_user_id)).one()


# The shell's own user when no admin is configured. It is stored with the role it acts
# with (so `csp-bot` commands the shell suggests accept it), but it is nobody in Slack:
# never a recipient, and never counted as the partnership's admin or lead.
LOCAL_USER = "ULOCAL"


def member_ids_with_role(session: Session, partnership_id: int, role: Role) -> list[str]:
    """Slack IDs of members holding ``role``, oldest first; for ``Role.LEAD`` the lead
    role or the safeguarding-lead flag. The shell's local user is left out."""
    held = Member.role == role
    if role == Role.LEAD:
        held = or_(held, Member.safeguarding_lead.is_(True))
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.partnership_id == partnership_id,
                held,
                Member.slack_user_id != LOCAL_USER,
            )
            .order_by(Member.id)
        )
    )


# ------------------------------------------------------------------------ objectives


def current_objectives_query(
    partnership: Partnership, *, with_progress: bool = False
) -> Select[Objective]:
    """The current plan year's objectives in plan order, with owners, schedule and
    meetings loaded (and progress, when asked)."""
    loads = [*with_actions(), selectinload(Objective.meetings)]
    if with_progress:
        loads.append(selectinload(Objective.progress))
        loads.append(selectinload(Objective.actions).selectinload(Action.progress))
    return (
        select(Objective)
        .where(
            Objective.partnership_id == partnership.id,
            Objective.plan_year == partnership.plan_year,
        )
        .order_by(Objective.position, Objective.id)
        .options(*loads)
    )


def current_objectives(session: Session, partnership: Partnership) -> list[Objective]:
    """The current plan year's objectives as ORM rows, with owners, schedule and meetings."""
    return list(session.scalars(current_objectives_query(partnership)))


def objective_titles(session: Session, partnership: Partnership) -> list[tuple[int, str]]:
    """(id, title) of the current plan year's objectives, in plan order."""
    rows = session.execute(
        select(Objective.id, Objective.title)
        .where(
            Objective.partnership_id == partnership.id,
            Objective.plan_year == partnership.plan_year,
        )
        .order_by(Objective.position, Objective.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def objective_by_id(session: Session, objective_id: int) -> Objective | None:
    return session.get(Objective, objective_id)


def objective_snoozes(session: Session, ids: Sequence[int]) -> list[tuple[int, dt.datetime]]:
    """(objective id, snoozed until) for the objectives in ``ids`` that are snoozed."""
    return [
        (oid, until)
        for oid, until in session.execute(
            select(Objective.id, Objective.snoozed_until).where(
                Objective.id.in_(ids), Objective.snoozed_until.is_not(None)
            )
        )
        if until is not None
    ]


def close_item_if_open(session: Session, item: ScheduleItem, now: dt.datetime) -> bool:
    """Set the item's ``done_at`` in the store only while it is still open (compare-and-set)
    and say whether this call closed it. When it did, the loaded item is left as read;
    when another transaction closed it first, the loaded item is refreshed."""
    won = session.execute(
        update(ScheduleItem)
        .where(ScheduleItem.id == item.id, ScheduleItem.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) == 1:
        return True
    session.refresh(item)
    return False


# -------------------------------------------------------------------------- progress


def last_progress_at(session: Session, objective_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When each objective's latest progress entry was logged (aware UTC)."""
    ids = list(objective_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ProgressEntry.objective_id, func.max(ProgressEntry.created_at))
        .where(ProgressEntry.objective_id.in_(ids))
        .group_by(ProgressEntry.objective_id)
    ).all()
    result: dict[int, dt.datetime] = {}
    for objective_id, at in rows:
        if at is not None:
            result[objective_id] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return result


def done_entry_times(
    session: Session, ids: Sequence[int], *, by_action: bool = False
) -> list[tuple[int, dt.datetime]]:
    """(objective id, logged at) of every "done" progress entry of the objectives
    ``ids``, oldest first; with ``by_action``, (action id, logged at) of the actions'."""
    column = ProgressEntry.action_id if by_action else ProgressEntry.objective_id
    return [
        (owner, at)
        for owner, at in session.execute(
            select(column, ProgressEntry.created_at)
            .where(column.in_(ids), ProgressEntry.done.is_(True))
            .order_by(ProgressEntry.created_at)
        )
    ]


def entry_with_request_key(
    session: Session, partnership_id: int, keys: Sequence[str]
) -> ProgressEntry | None:
    """The partnership's progress entry written by a request with one of ``keys``."""
    if not keys:
        return None
    return session.scalars(
        select(ProgressEntry)
        .join(Objective, Objective.id == ProgressEntry.objective_id)
        .where(
            ProgressEntry.request_key.in_(list(keys)), Objective.partnership_id == partnership_id
        )
        .limit(1)
    ).first()


def recent_progress(session: Session, objective_id: int, limit: int = 5) -> list[ProgressEntry]:
    """The objective's latest progress entries, newest first."""
    return list(
        session.scalars(
            select(ProgressEntry)
            .where(ProgressEntry.objective_id == objective_id)
            .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
            .limit(limit)
        )
    )


def done_entry_at_or_before(
    session: Session, objective_id: int, at: dt.datetime
) -> ProgressEntry | None:
    """The latest "done" entry of the objective logged no later than ``at``."""
    return session.scalars(
        select(ProgressEntry)
        .where(
            ProgressEntry.objective_id == objective_id,
            ProgressEntry.done.is_(True),
            ProgressEntry.created_at <= at,
        )
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(1)
    ).first()


# -------------------------------------------------------------------------- meetings


def meetings_from(session: Session, partnership_id: int, first: dt.date) -> list[Meeting]:
    """The partnership's meetings in the month of ``first`` or later, by month and body."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.partnership_id == partnership_id, Meeting.month >= first)
            .order_by(Meeting.month, Meeting.body)
        )
    )


def meeting_bodies(session: Session, partnership_id: int) -> list[str]:
    """The names of the bodies the partnership has meetings for, sorted."""
    return list(
        session.scalars(
            select(Meeting.body)
            .where(Meeting.partnership_id == partnership_id)
            .distinct()
            .order_by(Meeting.body)
        )
    )


def meeting_in_month(
    session: Session, partnership_id: int, body: str, month: dt.date
) -> Meeting | None:
    return session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership_id,
            Meeting.body == body,
            Meeting.month == month,
        )
    ).one_or_none()


def meetings_of_partnership(session: Session, partnership_id: int) -> Sequence[Meeting]:
    """Every meeting of the partnership, with the objective each belongs to."""
    return session.scalars(
        select(Meeting)
        .where(Meeting.partnership_id == partnership_id)
        .options(selectinload(Meeting.objective))
    ).all()


def meetings_of_body(session: Session, partnership_id: int, body: str) -> Sequence[Meeting]:
    return session.scalars(
        select(Meeting).where(Meeting.partnership_id == partnership_id, Meeting.body == body)
    ).all()
