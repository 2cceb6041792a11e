"""The workbook's read model: the plan, its dates, meetings and progress as rows for people.

Built from the same read models as the Slack views (``summarise``, ``occurrences``,
``overdue_items``), so the workbook and `/csp plan` never disagree. The Plan rows are
one per action: an objective with one action is one row, as it always was; one with
several has a row per action (its title on each), each with the action's own lead,
timescale, dates, RAG and progress, and its Schedule and Progress rows name the action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.plan import export_queries
from bot.plan.actions import scopes
from bot.plan.models import ObjectiveLike, ObjectiveSummary, OwnerLike
from bot.plan.reading import action_done_days, progress_facts, summarise
from bot.plan.schedule import (
    DATED_KINDS,
    item_label,
    met_occurrences,
    occurrences,
    overdue_items,
    partnership_calendar,
    recurring_dates,
    reminder_policy,
)
from bot.plan.years import plan_year_label
from bot.time.policy import ReminderPolicy
from bot.time.workdays import WorkingCalendar
from store.models import Meeting, Objective, Partnership, ProgressEntry, ScheduleKind


@dataclass(frozen=True)
class ActionRow:
    """One row of the Plan sheet: one action of one objective."""

    objective: str
    action: str
    lead: str  # the owners as written in the plan ("; " between them)
    owners: str  # by display name, the Slack id where no name is known
    timescale: str
    next_due: dt.date | None
    next_month_only: bool  # next_due is known only to its month
    status: str
    rag: str | None
    last_update: dt.date | None
    latest_note: str
    plan_file_progress: str  # the Progress text the plan file carried
    # Columns of the plan file the bot does not use, kept as written: (heading, cell).
    file_columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DatedRow:
    """One dated thing: a deadline, milestone, occurrence of a recurring item, or meeting."""

    due: dt.date
    month_only: bool
    objective: str
    what: str
    kind: str
    body: str
    state: str  # done, overdue, due, past, cancelled
    action: str = ""  # "2. Train staff" for an action of an objective with several


@dataclass(frozen=True)
class MeetingRow:
    body: str
    month: dt.date
    starts: dt.datetime | None  # aware, in the partnership's zone; None: no time set
    day: dt.date | None  # None: the date is still to be set
    place: str
    papers_due: dt.date | None
    objective: str


@dataclass(frozen=True)
class ProgressRow:
    at: dt.datetime  # aware, in the partnership's zone
    objective: str
    author: str
    rag: str
    done: bool
    note: str
    as_of: dt.date | None
    evidence: str
    action: str = ""  # "2. Train staff" for an action of an objective with several


@dataclass(frozen=True)
class PlanWorkbook:
    partnership: str
    plan_year: str  # "2026/27"
    zone: str
    prepared: dt.date
    actions: tuple[ActionRow, ...]
    dates: tuple[DatedRow, ...]
    meetings: tuple[MeetingRow, ...]
    progress: tuple[ProgressRow, ...]
    kept_columns: tuple[str, ...] = ()  # the plan file's own columns, in the order first seen
    several_actions: bool = False  # some objective has several actions (rows name them)

    @property
    def title(self) -> str:
        return f"{self.partnership}: plan {self.plan_year}"


def year_window(plan_year: int) -> tuple[dt.date, dt.date]:
    """The plan year as a half-open window: 1 April to the next 1 April."""
    return dt.date(plan_year, 4, 1), dt.date(plan_year + 1, 4, 1)


def plan_workbook(
    session: Session,
    partnership: Partnership,
    today: dt.date,
    names: Mapping[str, str],
) -> PlanWorkbook:
    """The current plan year as workbook rows; ``names`` maps Slack ids to display names."""
    zone = ZoneInfo(partnership.timezone)
    objectives = export_queries.objectives_with_progress(session, partnership)
    facts = progress_facts(session, partnership, (o.id for o in objectives))
    by_action = action_done_days(session, partnership, objectives)
    policy = reminder_policy(partnership)
    cal = partnership_calendar(partnership)
    first, end = year_window(partnership.plan_year)
    actions: list[ActionRow] = []
    dates: list[DatedRow] = []
    progress: list[ProgressRow] = []
    titles = {o.id: o.title for o in objectives}
    for objective in objectives:
        for part in _parts(objective, facts.done_days.get(objective.id, ()), by_action):
            entries = sorted(part.progress, key=lambda p: (p.created_at, p.id))
            last = entries[-1] if entries else None
            summary = summarise(
                part.scope,
                today,
                last.created_at if last else None,
                done_days=part.done_days,
                policy=policy,
                cal=cal,
            )
            actions.append(
                ActionRow(
                    objective=objective.title,
                    action=part.text,
                    lead="; ".join(o.label for o in part.scope.owners),
                    owners=_owner_names(part.scope.owners, names),
                    timescale=part.scope.timescale_text,
                    next_due=summary.next_date,
                    next_month_only=summary.next_month_only,
                    status=_status(summary),
                    rag=part.scope.rag,
                    last_update=last.created_at.astimezone(zone).date() if last else None,
                    latest_note=last.note if last else "",
                    plan_file_progress=part.imported_progress or "",
                    file_columns=tuple((part.file_columns or {}).items()),
                )
            )
            dates.extend(_dated_rows(part, today, first, end, cal, policy))
            progress.extend(
                ProgressRow(
                    at=p.created_at.astimezone(zone),
                    objective=objective.title,
                    author=p.author,
                    rag=p.rag or "",
                    done=p.done,
                    note=p.note,
                    as_of=p.as_of,
                    evidence=p.evidence_url or "",
                    action=part.name,
                )
                for p in entries
            )
    meetings = [
        _meeting_row(m, titles, zone)
        for m in export_queries.plan_meetings(session, partnership.id, objectives, first, end)
    ]
    dates.extend(
        DatedRow(
            due=m.day,
            month_only=False,
            objective=m.objective,
            what=f"{m.body} meeting",
            kind="meeting",
            body=m.body,
            state="due" if m.day >= today else "past",
        )
        for m in meetings
        if m.day is not None
    )
    dates.sort(key=lambda d: (d.due, d.objective, d.action, d.what))
    progress.sort(key=lambda p: p.at)
    return PlanWorkbook(
        partnership=partnership.name,
        plan_year=plan_year_label(partnership.plan_year),
        zone=partnership.timezone,
        prepared=today,
        actions=tuple(actions),
        dates=tuple(dates),
        meetings=tuple(meetings),
        progress=tuple(progress),
        kept_columns=tuple(dict.fromkeys(h for a in actions for h, _ in a.file_columns)),
        several_actions=any(len(o.actions) > 1 for o in objectives),
    )


@dataclass(frozen=True)
class _Part:
    """What one Plan row is read from: a one-action objective itself, or one action of
    an objective with several (``name`` "2. Train staff", as the reminders say it)."""

    scope: ObjectiveLike
    text: str
    name: str
    imported_progress: str | None
    file_columns: Mapping[str, str] | None
    progress: Sequence[ProgressEntry]
    done_days: tuple[dt.date, ...]


def _parts(
    objective: Objective,
    done_days: tuple[dt.date, ...],
    by_action: Mapping[int, tuple[dt.date, ...]],
) -> list[_Part]:
    """The objective's Plan rows: itself when it has one action, else each action."""
    if len(objective.actions) <= 1:
        return [
            _Part(
                objective,
                objective.action_text,
                "",
                objective.imported_progress,
                objective.file_columns,
                objective.progress,
                done_days,
            )
        ]
    return [
        _Part(
            scope,
            action.text,
            scope.action or "",
            action.imported_progress,
            action.file_columns,
            action.progress,
            by_action.get(action.id, ()),
        )
        for action, scope in zip(objective.actions, scopes(objective), strict=True)
    ]


def _owner_names(owners: Sequence[OwnerLike], names: Mapping[str, str]) -> str:
    shown = []
    for owner in owners:
        if owner.slack_user_id:
            shown.append(names.get(owner.slack_user_id) or owner.slack_user_id)
        else:
            shown.append(owner.label)
    return "; ".join(shown)


def _status(summary: ObjectiveSummary) -> str:
    if summary.status != "open":
        return summary.status.capitalize()  # Done, Waived
    if summary.overdue:
        return "Overdue"
    if summary.needs_dating:
        return "Needs a date"
    return "Open"


def _dated_rows(
    part: _Part,
    today: dt.date,
    first: dt.date,
    end: dt.date,
    cal: WorkingCalendar,
    policy: ReminderPolicy,
) -> Iterator[DatedRow]:
    objective, done_days = part.scope, part.done_days
    late = {
        (o.due_on, o.source_text) for o in overdue_items(objective, today, done_days, policy, cal)
    }

    def state(due: dt.date, done: bool, source: str) -> str:
        if done or objective.status == "done":
            return "done"
        if objective.status == "waived":
            return "cancelled"
        if (due, source) in late:
            return "overdue"
        return "due" if due >= today else "past"

    for item in objective.schedule:
        body = item.body or ""
        if item.kind in DATED_KINDS and item.due_on is not None:
            done = item.done_at is not None
            yield DatedRow(
                item.due_on,
                item.month_only,
                objective.title,
                item_label(item),
                str(item.kind),
                body,
                state(item.due_on, done, item.source_text),
                part.name,
            )
        elif item.kind == ScheduleKind.RECURRING:
            met = met_occurrences(recurring_dates(item, end, cal), done_days)
            what = item.source_text or "recurring"
            for due in occurrences(item, first, end, cal):
                yield DatedRow(
                    due,
                    False,
                    objective.title,
                    what,
                    str(item.kind),
                    body,
                    state(due, due in met, item.source_text),
                    part.name,
                )


def _meeting_row(meeting: Meeting, titles: Mapping[int, str], zone: dt.tzinfo) -> MeetingRow:
    starts = None
    if meeting.meeting_date is not None and meeting.start_time is not None:
        starts = dt.datetime.combine(meeting.meeting_date, meeting.start_time, tzinfo=zone)
    return MeetingRow(
        body=meeting.body,
        month=meeting.month,
        starts=starts,
        day=meeting.meeting_date,
        place=meeting.place or "",
        papers_due=meeting.papers_due,
        objective=titles.get(meeting.objective_id or 0, ""),
    )
