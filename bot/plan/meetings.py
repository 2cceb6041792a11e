"""Meetings: the bodies' meetings as views, upcoming ones, and setting or moving a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan import queries, readcache
from bot.plan.members import Actor
from bot.plan.models import MeetingView
from bot.plan.reading import get_objective
from bot.plan.schedule import month_label
from bot.plan.years import local_today
from bot.text.matching import match_body
from bot.text.mrkdwn import esc
from bot.time.words import long_date, short_date
from store.models import Meeting, Partnership


def meeting_view(meeting: Meeting) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        body=meeting.body,
        month=meeting.month,
        meeting_date=meeting.meeting_date,
        start_time=meeting.start_time,
        place=meeting.place,
        papers_due=meeting.papers_due,
    )


def upcoming_meetings(
    session: Session, partnership: Partnership, today: dt.date, days: int | None = None
) -> list[MeetingView]:
    rows = queries.meetings_from(session, partnership.id, today.replace(day=1))
    views = []
    for meeting in rows:
        view = meeting_view(meeting)
        if meeting.meeting_date is not None and meeting.meeting_date < today:
            continue
        if days is not None and view.sort_date > today + dt.timedelta(days=days):
            continue
        views.append(view)
    views.sort(key=lambda v: (v.sort_date, v.body))
    return views


def set_meeting(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    body: str,
    when: dt.date,
    start: dt.time | None = None,
    place: str | None = None,
    *,
    now: dt.datetime,
) -> MeetingView:
    """Set or move a meeting's date: the body's meeting programmed for that month,
    or else its next undated one."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can set meeting dates. Ask an admin, or see "
            "`/csp meetings` for what is planned."
        )
    bodies = queries.meeting_bodies(session, partnership.id)
    chosen = _pick_body(body, bodies)
    month = when.replace(day=1)
    meeting = queries.meeting_in_month(session, partnership.id, chosen, month)
    moved_from: str | None = None
    if meeting is None:
        # Moving a meeting to another month: take that body's nearest meeting.
        candidates = queries.meetings_of_body(session, partnership.id, chosen)

        def distance(m: Meeting) -> int:
            return abs(((m.meeting_date or m.month) - when).days)

        near = [m for m in candidates if distance(m) <= 62]
        meeting = min(near, key=distance, default=None)
        if meeting is not None:
            moved_from = (
                short_date(meeting.meeting_date)
                if meeting.meeting_date
                else f"{month_label(meeting.month)} (date to be set)"
            )
    if meeting is None:
        meeting = Meeting(partnership_id=partnership.id, body=chosen, month=month)
        session.add(meeting)
    meeting.month = month
    meeting.meeting_date = when
    if start is not None:
        meeting.start_time = start
    if place is not None:
        meeting.place = place
    session.flush()
    if meeting.objective_id is not None:
        # A linked meeting is one of its objective's dates: the plan changed.
        readcache.touch(session, get_objective(session, partnership, meeting.objective_id), now)
        session.flush()
    view = meeting_view(meeting)
    return replace(view, moved_from=moved_from) if moved_from else view


def refuse_past_meeting(
    partnership: Partnership, body: str, when: dt.date, now: dt.datetime
) -> None:
    """A kind UserError when ``when`` is before today (for `/csp meeting`)."""
    today = local_today(partnership, now)
    if when < today:
        raise UserError(
            f"{long_date(when)} is in the past, so I have not changed anything. "
            "Give the date of the body's next meeting, today or later, e.g. "
            f"`/csp meeting {_quoted(body)} {(today + dt.timedelta(days=14)).isoformat()}`."
        )


def _quoted(body: str) -> str:
    """A body's name as typed in a command, mrkdwn escaped (it is data)."""
    return esc(f'"{body}"' if " " in body else body)


def _pick_body(query: str, bodies: Sequence[str]) -> str:
    """The one body ``query`` means, or a kind UserError listing the choices."""
    found = match_body(query, bodies)
    if found.single is not None:
        return found.single[1]
    example = "`/csp meeting RAG 2027-03-14 10:00`"
    if found.kind == "several":
        names = " or ".join(_quoted(b) for _, b in found.objectives)
        raise UserError(
            f"“{esc(query)}” could be {names}. Which one? Type more of the name, e.g. "
            f"`/csp meeting {_quoted(found.objectives[0][1])} 2027-03-14 10:00`."
        )
    if not bodies:
        raise UserError(
            "No meetings are planned yet, so there is no body to set a date for. "
            "Meetings come from the plan's timescales."
        )
    known = "; ".join(_quoted(b) for b in bodies)
    raise UserError(
        f"I couldn't find a body called “{esc(query)}”. Bodies with meetings: {known}. "
        f"Use a name, its start or its initials, e.g. {example}."
    )
