"""The statutory cycle (assessment, plan, scrutiny) and meetings, as the pack shows them.

The plan names these duties in its objectives' titles ("Strategic Assessment",
"Partnership Plan", "Overview and Scrutiny Committee"): their dated items and linked
meetings are the cycle's dates, each judged on time or not at the period's end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.plan.schedule import DATED_KINDS, item_label, met_occurrences, occurrences
from bot.plan.snapshot import ItemSnap, MeetingSnap, ObjectiveSnap
from bot.plan.years import local_date
from bot.reports.history import Entry
from bot.reports.model import CycleLine, MeetingLine
from bot.time.quarters import Quarter
from bot.time.workdays import WorkingCalendar
from store.models import Meeting, ScheduleKind

# (the duty as the pack names it, words that find its objective in the plan's titles)
DUTIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Strategic assessment", ("strategic assessment",)),
    ("Partnership plan", ("partnership plan",)),
    ("Scrutiny", ("scrutiny",)),
)


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _open_state(due: dt.date, as_at: dt.date) -> tuple[str, str]:
    if due < as_at:
        return "overdue", f"overdue by {_days((as_at - due).days)}"
    if due == as_at:
        return "due", "due that day"
    return "due", f"due in {_days((due - as_at).days)}"


def _item_lines(
    duty: str,
    objective: ObjectiveSnap,
    item: ItemSnap,
    done_days: Sequence[dt.date],
    plan_year: int,
    as_at: dt.date,
    zone: ZoneInfo,
    cal: WorkingCalendar,
) -> list[CycleLine]:
    if item.kind in DATED_KINDS and item.due_on is not None:
        if item.done_at is not None:
            done = local_date(item.done_at, zone)
            state = "done on time" if done <= item.due_on else "done late"
            detail = f"done {_day(done)}"
        else:
            state, detail = _open_state(item.due_on, as_at)
        return [CycleLine(duty, objective.title, item.due_on, item_label(item), state, detail)]
    if item.kind == ScheduleKind.RECURRING:
        first, after = dt.date(plan_year, 4, 1), dt.date(plan_year + 1, 4, 1)
        dates = occurrences(item, first, after, cal)
        met = met_occurrences(dates, done_days)
        lines = []
        for due in dates:
            state, detail = ("done", "marked done") if due in met else _open_state(due, as_at)
            lines.append(CycleLine(duty, objective.title, due, _day(due), state, detail))
        return lines
    return []


def statutory_cycle(
    objectives: Iterable[ObjectiveSnap],
    history: Mapping[int, Sequence[Entry]],
    quarter: Quarter,
    as_at: dt.date,
    zone: ZoneInfo,
    cal: WorkingCalendar,
) -> tuple[CycleLine, ...]:
    """Every date of the three duties in the quarter's plan year, oldest first per duty;
    a duty the plan does not hold is listed as missing."""
    found: list[CycleLine] = []
    plan = list(objectives)
    end_cut = dt.datetime.combine(as_at + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    for duty, words in DUTIES:
        matching = [o for o in plan if any(w in o.title.lower() for w in words)]
        lines: list[CycleLine] = []
        for objective in matching:
            done_days = [
                local_date(e.at, zone)
                for e in history.get(objective.id, ())
                if e.done and e.at < end_cut
            ]
            for item in objective.schedule:
                lines.extend(
                    _item_lines(duty, objective, item, done_days, quarter.year, as_at, zone, cal)
                )
            for meeting in objective.meetings:
                lines.append(_meeting_line(duty, objective.title, meeting, as_at))
        if not matching:
            lines.append(
                CycleLine(duty, "", None, "", "not in the plan", "add it to the plan to track it")
            )
        elif not lines:
            lines.append(
                CycleLine(duty, matching[0].title, None, "", "not yet dated", "no date in the plan")
            )
        lines.sort(key=lambda c: (c.due_on or dt.date.max, c.label))
        found.extend(lines)
    return tuple(found)


def _meeting_line(duty: str, title: str, meeting: MeetingSnap, as_at: dt.date) -> CycleLine:
    body, month, when = meeting.body, meeting.month, meeting.meeting_date
    if when is None:
        return CycleLine(
            duty, title, month, f"{body}, {month:%B %Y}", "not yet dated", "date to be set"
        )
    state = "held" if when <= as_at else "due"
    detail = f"held {_day(when)}" if state == "held" else _open_state(when, as_at)[1]
    return CycleLine(duty, title, when, f"{body}, {_day(when)}", state, detail)


def meeting_lines(
    meetings: Iterable[Meeting], quarter: Quarter, as_at: dt.date
) -> tuple[tuple[MeetingLine, ...], tuple[MeetingLine, ...]]:
    """(held in the period, coming up to the end of the next quarter). A meeting still
    without a date whose month has passed is listed with those held, marked undated."""
    held: list[MeetingLine] = []
    coming: list[MeetingLine] = []
    last = quarter.next().end
    for m in meetings:
        line = MeetingLine(m.body, m.month, m.meeting_date, m.start_time, m.place)
        if m.meeting_date is not None:
            if quarter.start <= m.meeting_date <= as_at:
                held.append(line)
            elif as_at < m.meeting_date <= last:
                coming.append(line)
        elif m.month >= as_at.replace(day=1):
            coming.append(line)
        elif m.month >= quarter.start:
            held.append(line)
    return tuple(sorted(held, key=_meeting_order)), tuple(sorted(coming, key=_meeting_order))


def _meeting_order(line: MeetingLine) -> tuple[dt.date, str]:
    return (line.meeting_date or line.month, line.body)
