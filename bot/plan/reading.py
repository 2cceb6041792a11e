"""Reading the plan: objective summaries, one objective's detail, and what is due.

The list and `/csp due` are served from the snapshot in ``bot.plan.readcache``;
one objective is read through the ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.plan import queries, readcache
from bot.plan.actions import number_of, scopes
from bot.plan.models import (
    ActionDetail,
    DueItem,
    ObjectiveDetail,
    ObjectiveLike,
    ObjectiveSummary,
    ProgressFacts,
    ProgressView,
    ScheduleLine,
)
from bot.plan.schedule import (
    item_label,
    month_label,
    overdue_items,
    partnership_calendar,
    reminder_policy,
    upcoming_items,
)
from bot.plan.snapshot import ObjectiveSnap
from bot.plan.snapshot import scopes as snapshot_scopes
from bot.plan.years import local_date
from bot.time.policy import ReminderPolicy
from bot.time.words import long_date
from bot.time.workdays import WorkingCalendar
from store.models import Objective, ObjectiveStatus, Partnership, ProgressEntry, ScheduleKind

T = TypeVar("T")


def summarise(
    objective: ObjectiveLike,
    today: dt.date,
    last_progress_at: dt.datetime | None,
    *,
    done_days: Iterable[dt.date] = (),
    policy: ReminderPolicy | None = None,
    cal: WorkingCalendar | None = None,
) -> ObjectiveSummary:
    upcoming = upcoming_items(objective, today, cal)
    late = overdue_items(objective, today, done_days, policy, cal)
    return ObjectiveSummary(
        id=objective.id,
        title=objective.title,
        owners=tuple(dict.fromkeys(o.slack_user_id or o.label for o in objective.owners)),
        owner_ids=tuple(
            dict.fromkeys(o.slack_user_id for o in objective.owners if o.slack_user_id)
        ),
        rag=objective.rag,
        status=objective.status,
        next_date=upcoming[0][0] if upcoming else None,
        next_label=upcoming[0][1] if upcoming else None,
        overdue=bool(late),
        overdue_since=min((i.due_on for i in late), default=None),
        needs_dating=objective.needs_dating,
        ongoing=any(i.kind == ScheduleKind.ONGOING for i in objective.schedule),
        timescale_text=objective.timescale_text,
        last_progress_at=last_progress_at,
        next_month_only=upcoming[0][2] if upcoming else False,
    )


def progress_facts(
    session: Session, partnership: Partnership, objective_ids: Iterable[int]
) -> ProgressFacts:
    ids = list(objective_ids)
    zone = ZoneInfo(partnership.timezone)
    snoozed: dict[int, dt.datetime] = {}
    if ids:
        for oid, until in queries.objective_snoozes(session, ids):
            snoozed[oid] = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    done = _done_days(session, ids, zone, by_action=False)
    return ProgressFacts(done, snoozed, partnership.timezone)


def action_done_days(
    session: Session,
    partnership: Partnership,
    objectives: Iterable[Objective | ObjectiveSnap],
) -> dict[int, tuple[dt.date, ...]]:
    """The local days of each action's "done" entries, for the objectives with several
    actions (one action's "done" meets none of another's occurrences)."""
    ids = [a.id for o in objectives if len(o.actions) > 1 for a in o.actions]
    return _done_days(session, ids, ZoneInfo(partnership.timezone), by_action=True)


def _done_days(
    session: Session, ids: Sequence[int], zone: ZoneInfo, *, by_action: bool
) -> dict[int, tuple[dt.date, ...]]:
    """The local days of the "done" entries of objectives (or actions) ``ids``, by id."""
    done: dict[int, list[dt.date]] = {}
    if ids:
        for owner, at in queries.done_entry_times(session, ids, by_action=by_action):
            done.setdefault(owner, []).append(local_date(at, zone))
    return {k: tuple(v) for k, v in done.items()}


def summary_of(
    session: Session,
    partnership: Partnership,
    objective: Objective,
    today: dt.date,
    last_progress_at: dt.datetime | None,
) -> ObjectiveSummary:
    """:func:`summarise` for one ORM objective, with its "done" entries."""
    facts = progress_facts(session, partnership, [objective.id])
    return summarise(
        objective,
        today,
        last_progress_at,
        done_days=facts.done_days.get(objective.id, ()),
        policy=reminder_policy(partnership),
        cal=partnership_calendar(partnership),
    )


def _active_snooze(facts: ProgressFacts, objective_id: int, today: dt.date) -> dt.datetime | None:
    until = facts.snoozed_until.get(objective_id)
    return until if until is not None and local_date(until, facts.zone) >= today else None


def _snapshot(session: Session, partnership: Partnership) -> readcache.PlanSnapshot:
    return readcache.plan_snapshot(session, partnership.id, partnership.plan_year)


def list_objectives(
    session: Session, partnership: Partnership, today: dt.date
) -> list[ObjectiveSummary]:
    snap = _snapshot(session, partnership)
    facts = snapshot_facts(session, partnership, snap)
    policy = reminder_policy(partnership)
    cal = partnership_calendar(partnership)

    def build() -> tuple[ObjectiveSummary, ...]:
        return tuple(
            summarise(
                o,
                today,
                snap.last_progress.get(o.id),
                done_days=facts.done_days.get(o.id, ()),
                policy=policy,
                cal=cal,
            )
            for o in snap.objectives
        )

    return list(snap.memo(("summaries", today, policy, cal), build))


def snapshot_facts(
    session: Session, partnership: Partnership, snap: readcache.PlanSnapshot
) -> ProgressFacts:
    # The snapshot's fingerprint moves with every progress entry and every snooze
    # (snooze stamps the objective), so these facts live as long as the snapshot.
    return snap.memo(
        ("progress_facts", partnership.timezone),
        lambda: facts_of(session, partnership, snap.objectives),
    )


def facts_of(
    session: Session, partnership: Partnership, objectives: Sequence[ObjectiveSnap]
) -> ProgressFacts:
    """The "done" days and snoozes of each objective, and the "done" days of each action
    of one with several."""
    facts = progress_facts(session, partnership, (o.id for o in objectives))
    by_action = action_done_days(session, partnership, objectives)
    return replace(facts, action_done_days=by_action) if by_action else facts


def plan_memo(
    session: Session, partnership: Partnership, key: Hashable, build: Callable[[], T]
) -> T:
    """A value derived only from the current plan snapshot and ``key`` (e.g. a rendered
    reply), built once per snapshot. ``build`` must read nothing the snapshot does not
    cover."""
    return _snapshot(session, partnership).memo(key, build)


def objective_choices(session: Session, partnership: Partnership) -> Sequence[tuple[int, str]]:
    """(id, title) of the plan year's objectives in plan order, from the snapshot (the
    same tuple while the plan is unchanged; a session with uncommitted writes reads them
    from the database, as a list)."""
    if readcache.has_pending_writes(session):
        return queries.objective_titles(session, partnership)
    snap = _snapshot(session, partnership)
    return snap.memo(("choices",), lambda: tuple((o.id, o.title) for o in snap.objectives))


ActionChoices = dict[int, tuple[tuple[int, str], ...]]


def action_choices(session: Session, partnership: Partnership) -> ActionChoices:
    """(number, text) of the actions of each objective that has several, by objective id
    (from the plan snapshot)."""
    snap = _snapshot(session, partnership)
    return snap.memo(
        "action_choices",
        lambda: {
            o.id: tuple((a.position, a.text) for a in o.actions)
            for o in snap.objectives
            if len(o.actions) > 1
        },
    )


def get_objective(session: Session, partnership: Partnership, objective_id: int) -> Objective:
    objective = queries.objective_by_id(session, objective_id)
    if objective is None or objective.partnership_id != partnership.id:
        raise NotFound("That objective no longer exists. Type `/csp plan` to see the current plan.")
    return objective


def progress_view(entry: ProgressEntry) -> ProgressView:
    return ProgressView(
        at=entry.created_at,
        author=entry.author,
        slack_user_id=entry.slack_user_id,
        rag=entry.rag,
        done=entry.done,
        note=entry.note,
        as_of=entry.as_of,
        evidence_url=entry.evidence_url,
    )


def objective_detail(
    session: Session, partnership: Partnership, objective_id: int, today: dt.date
) -> ObjectiveDetail:
    objective = get_objective(session, partnership, objective_id)
    recent = queries.recent_progress(session, objective.id, limit=5)
    several = len(objective.actions) > 1
    prefix = {a.id: f"Action {a.position}: " for a in objective.actions} if several else {}
    schedule = [
        ScheduleLine(
            kind=item.kind,
            due_on=item.due_on,
            body=item.body,
            label=prefix.get(item.action_id, "") + item_label(item),
            rrule=item.rrule,
            done=item.done_at is not None,
        )
        for item in objective.schedule
    ]
    for meeting in objective.meetings:
        schedule.append(
            ScheduleLine(
                kind="meeting",
                due_on=meeting.meeting_date,
                body=meeting.body,
                label=(
                    f"{meeting.body}: {long_date(meeting.meeting_date)}"
                    if meeting.meeting_date
                    else f"{meeting.body}: {month_label(meeting.month)} (date to be set)"
                ),
                rrule=None,
            )
        )
    last = recent[0].created_at if recent else None
    return ObjectiveDetail(
        summary=summary_of(session, partnership, objective, today, last),
        action_text=objective.action_text,
        statutory_basis=objective.statutory_basis,
        schedule=tuple(schedule),
        recent_progress=tuple(progress_view(e) for e in recent),
        actions=_action_details(session, partnership, objective, today),
        recent_actions=tuple(number_of(objective, e.action_id) for e in recent),
    )


def _action_details(
    session: Session, partnership: Partnership, objective: Objective, today: dt.date
) -> tuple[ActionDetail, ...]:
    """Each action's own summary, for an objective with several (none for one)."""
    if len(objective.actions) < 2:
        return ()
    days = action_done_days(session, partnership, [objective])
    policy = reminder_policy(partnership)
    cal = partnership_calendar(partnership)
    last = {a.id: max((p.created_at for p in a.progress), default=None) for a in objective.actions}
    return tuple(
        ActionDetail(
            number=action.position,
            text=action.text,
            summary=summarise(
                scope,
                today,
                last.get(action.id),
                done_days=days.get(action.id, ()),
                policy=policy,
                cal=cal,
            ),
        )
        for action, scope in zip(objective.actions, scopes(objective), strict=True)
    )


def due_items(
    session: Session, partnership: Partnership, today: dt.date, days: int
) -> list[DueItem]:
    """Overdue items first (oldest first), then dated items due within ``days``."""
    snap = _snapshot(session, partnership)
    facts = snapshot_facts(session, partnership, snap)
    policy = reminder_policy(partnership)
    cal = partnership_calendar(partnership)
    return list(
        snap.memo(
            ("due", today, days, policy, cal),
            lambda: tuple(due_list(snap.objectives, today, days, facts, policy, cal)),
        )
    )


def overdue_due_items(
    objective: ObjectiveLike,
    today: dt.date,
    facts: ProgressFacts,
    policy: ReminderPolicy,
    cal: WorkingCalendar | None = None,
    *,
    action_id: int | None = None,
    action: str | None = None,
) -> list[DueItem]:
    """:func:`overdue_items` for one objective (or, with ``action_id``, one action seen
    as one: ``bot.plan.snapshot.scopes``) as :class:`DueItem` rows."""
    owners = tuple(o.slack_user_id for o in objective.owners if o.slack_user_id)
    snoozed = _active_snooze(facts, objective.id, today)
    done_days = (
        facts.done_days.get(objective.id, ())
        if action_id is None
        else facts.action_done_days.get(action_id, ())
    )
    return [
        DueItem(
            objective.id,
            objective.title,
            late.due_on,
            late.label,
            late.body,
            True,
            owners,
            late.kind,
            snoozed_until=snoozed,
            action=action,
        )
        for late in overdue_items(objective, today, done_days, policy, cal)
    ]


def upcoming_due_items(
    objective: ObjectiveLike,
    today: dt.date,
    days: int,
    cal: WorkingCalendar | None = None,
    *,
    action: str | None = None,
) -> list[DueItem]:
    """Dated things (deadlines, milestones, occurrences, meetings) due within ``days``."""
    if objective.status != ObjectiveStatus.OPEN:
        return []
    horizon = today + dt.timedelta(days=days)
    owners = tuple(o.slack_user_id for o in objective.owners if o.slack_user_id)
    return [
        DueItem(
            objective.id,
            objective.title,
            when,
            label,
            None,
            False,
            owners,
            "dated",
            month_only=month_only,
            action=action,
        )
        for when, label, month_only in upcoming_items(objective, today, cal)
        if when <= horizon
    ]


def due_list(
    objectives: Iterable[ObjectiveSnap | Objective],
    today: dt.date,
    days: int,
    facts: ProgressFacts | None = None,
    policy: ReminderPolicy | None = None,
    cal: WorkingCalendar | None = None,
) -> list[DueItem]:
    facts = facts or ProgressFacts({}, {})
    policy = policy or ReminderPolicy()
    overdue: list[DueItem] = []
    upcoming: list[DueItem] = []
    for whole in objectives:
        parts = (
            snapshot_scopes(whole)
            if isinstance(whole, ObjectiveSnap)
            else scopes(whole)  # ORM objectives (a session with uncommitted writes, tests)
        )
        for objective in parts:
            overdue.extend(
                overdue_due_items(
                    objective,
                    today,
                    facts,
                    policy,
                    cal,
                    action_id=objective.action_id,
                    action=objective.action,
                )
            )
            upcoming.extend(
                upcoming_due_items(objective, today, days, cal, action=objective.action)
            )
    overdue.sort(key=lambda d: (d.due_on, d.title))
    upcoming.sort(key=lambda d: (d.due_on, d.title))
    return overdue + upcoming
