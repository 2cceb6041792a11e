"""Action schedules: a Timescale cell read into schedule rows; an objective's meeting months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.plan.queries import meetings_of_partnership
from bot.plan.years import local_today
from bot.time.timescale.model import Timescale
from bot.time.timescale.parse import parse_timescale
from bot.time.workdays import default_calendar
from store.models import Action, Meeting, Objective, Partnership, ScheduleItem, ScheduleKind


def parse_for_plan(text: str, plan_year: int | None = None) -> Timescale:
    """Read a Timescale cell as the plan does: England and Wales working days, and
    ``plan_year`` for texts that name no year."""
    return parse_timescale(text, calendar=default_calendar(), reference_year=plan_year)


def _schedule_rows(timescale: Timescale) -> list[ScheduleItem]:
    items: list[ScheduleItem] = []
    position = 0
    if timescale.ongoing:
        items.append(
            ScheduleItem(position=position, kind=ScheduleKind.ONGOING, source_text="Ongoing")
        )
        position += 1
    for milestone in timescale.milestones:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind(milestone.kind),
                body=milestone.body,
                due_on=milestone.due_on,
                month_only=milestone.month_only,
                source_text=milestone.label,
            )
        )
        position += 1
    for recurrence in timescale.recurrences:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind.RECURRING,
                body=recurrence.body,
                due_on=recurrence.dtstart,
                month_only=recurrence.roll == "previous_working_day",
                rrule=recurrence.rrule,
                source_text=recurrence.label,
            )
        )
        position += 1
    if timescale.unparsed:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind.UNPARSED,
                source_text=timescale.original,
            )
        )
    return items


class MeetingIndex:
    """The partnership's meetings by (body, month), read once before an import writes
    anything: linking an objective to its meeting months then needs no query, and sees
    meetings added earlier in the same import before they are flushed."""

    def __init__(self, session: Session, partnership_id: int) -> None:
        self.partnership_id = partnership_id
        self._by_slot = {
            (m.body, m.month): m for m in meetings_of_partnership(session, partnership_id)
        }

    def get_or_add(self, session: Session, body: str, month: dt.date) -> Meeting:
        meeting = self._by_slot.get((body, month))
        if meeting is None:
            meeting = Meeting(partnership_id=self.partnership_id, body=body, month=month)
            session.add(meeting)
            self._by_slot[(body, month)] = meeting
        return meeting

    def forget(self, meeting: Meeting) -> None:
        self._by_slot.pop((meeting.body, meeting.month), None)


def apply_schedule(
    session: Session,
    partnership: Partnership,
    action: Action,
    timescale: Timescale,
    *,
    now: dt.datetime,
) -> None:
    """Replace the action's schedule with what ``timescale`` reads as (not flushed). The
    items are made today (``now`` in the partnership's zone): no recurring one falls
    due before that. The objective's meetings are linked by :func:`link_meetings`."""
    action.schedule.clear()
    today = local_today(partnership, now)
    rows = _schedule_rows(timescale)
    for row in rows:
        row.created_on = today
    action.schedule.extend(rows)
    action.needs_dating = timescale.unparsed or timescale.flag is not None


def link_meetings(
    session: Session,
    objective: Objective,
    readings: Sequence[Timescale],
    meetings: MeetingIndex | None = None,
) -> None:
    """Link the objective to the meeting months its actions' timescales name (keeping
    meetings that already have a date), and unlink the undated ones none names.

    With ``meetings`` (an import), nothing is flushed or queried here: the import
    writes everything in one flush at its end, so it holds the database's write lock
    only for that. Without it, the change is flushed."""
    index = meetings if meetings is not None else MeetingIndex(session, objective.partnership_id)
    wanted = {(slot.body, slot.month) for reading in readings for slot in reading.meetings}
    for old in list(objective.meetings):
        if (old.body, old.month) not in wanted and old.meeting_date is None:
            objective.meetings.remove(old)
            index.forget(old)
            session.delete(old)
    for body, month in sorted(wanted, key=lambda pair: (pair[1], pair[0])):
        meeting = index.get_or_add(session, body, month)
        if meeting.objective is not objective:
            meeting.objective = objective  # back_populates keeps objective.meetings in step
    if meetings is None:
        session.flush()
