"""Reminder sources: the deadline, overdue and progress-check notices due for each objective.

:func:`reminder_source` reads the plan (objectives, schedule items, meetings, progress)
and proposes the notices *live* at ``now`` (see :mod:`bot.time.policy`): a notice whose send
instant has come and whose useful window has not closed. Each has a stable key per
(target, kind, occurrence) so the outbox inserts it once, whichever process or sweep
sees it first. Meeting notices come from :mod:`bot.notices.meeting_notices`.

Targets: owners with a Slack account get a DM (target = user id); overdue items and
meetings also go to the partnership channel; an objective with no owner in Slack has
its reminders posted to the channel with a prompt to assign one. After a plan load or
a new channel, overdue items are summarised once (:mod:`bot.notices.catch_up`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.deliveries import DeliveryKind, PlannedDelivery
from bot.notices.catch_up import apply_catch_up
from bot.notices.meeting_notices import meeting_plans
from bot.notices.notice_policy import NoticeContext, held, live, policy_for
from bot.notices.queries import admin_ids, last_progress_at, meetings_between, open_objectives
from bot.plan.actions import Scope, scopes
from bot.plan.reading import action_done_days, progress_facts
from bot.plan.schedule import (
    met_occurrences,
    occurrences,
    overdue_items,
    partnership_calendar,
    recurring_dates,
)
from bot.plan.years import local_date
from bot.time.policy import (
    Notice,
    deadline_notices,
    latest_overdue,
    local_instant,
    quiet_prompt,
)
from bot.time.workdays import WorkingCalendar
from store.models import ObjectiveStatus, Partnership, ScheduleKind

DATED = (ScheduleKind.DEADLINE, ScheduleKind.MILESTONE)
# How far ahead a dated occurrence can have a live "before" notice (14 days, moved back
# over a long weekend, with room to spare).
BEFORE_HORIZON = dt.timedelta(days=20)


def _snoozed(objective: Scope, notice: Notice) -> bool:
    until = objective.snoozed_until
    return until is not None and notice.at < until


def _owner_targets(objective: Scope) -> list[str]:
    return [o.slack_user_id for o in objective.owners if o.slack_user_id]


def _base_payload(objective: Scope, notice: Notice) -> dict[str, object]:
    action: dict[str, object] = (
        {"action_id": objective.action_id, "action": objective.action}
        if objective.action_id is not None
        else {}
    )
    return action | {
        "title": objective.title,
        "stage": notice.stage,
        "planned_for": notice.on.isoformat(),
    }


@dataclass(frozen=True)
class _Dated:
    """One dated occurrence to remind about: a deadline, a milestone or one
    occurrence of a recurring item."""

    due: dt.date
    kind: str
    body: str | None
    month_only: bool
    source_text: str


def _dated_plans(
    ctx: NoticeContext,
    objective: Scope,
    what: _Dated,
    *,
    overdue_until: dt.datetime | None,
) -> Iterator[PlannedDelivery]:
    """The live notice (before, on the day, or overdue) for one dated occurrence.

    Callers pass only occurrences that are upcoming or overdue by
    :func:`bot.plan.schedule.overdue_items`, so notices and views agree on what is overdue.
    """
    due = what.due
    owners = _owner_targets(objective)
    notice = live(deadline_notices(due, ctx.policy, ctx.zone, ctx.cal), ctx.now)
    kind: DeliveryKind = "deadline"
    if notice is None:
        found = latest_overdue(due, ctx.now, ctx.policy, ctx.zone, ctx.cal)
        if found is None:
            return
        notice = found[1]
        if overdue_until is not None:
            if notice.at >= overdue_until:
                return
            if notice.useful_until is None or notice.useful_until > overdue_until:
                notice = Notice(notice.stage, notice.on, notice.at, overdue_until)
        kind = "overdue"
    if _snoozed(objective, notice) or held(ctx, notice):
        return
    targets = list(owners) or ([ctx.channel] if ctx.channel else [])
    if kind == "overdue" and ctx.channel and ctx.channel not in targets:
        targets.append(ctx.channel)
    payload = _base_payload(objective, notice) | {
        "due_on": due.isoformat(),
        "body": what.body,
        "month_only": what.month_only,
        "label": what.source_text if what.kind == ScheduleKind.RECURRING else None,
        "no_owner": not owners,
        "item": what.kind,
    }
    for target in targets:
        yield PlannedDelivery(
            key=f"rem:{objective.key}:{due.isoformat()}:{notice.stage}:{target}",
            kind=kind,
            target=target,
            occurrence=notice.at,
            objective_id=objective.id,
            payload=dict(payload),
            useful_until=notice.useful_until,
        )


def _upcoming(
    objective: Scope, today: dt.date, done_days: Sequence[dt.date], cal: WorkingCalendar
) -> list[_Dated]:
    """Dated occurrences from today on whose "before" notices may be live."""
    found: list[_Dated] = []
    horizon = today + BEFORE_HORIZON + dt.timedelta(days=1)
    for item in objective.schedule:
        if item.kind in DATED:
            found.extend(
                _Dated(due, item.kind, item.body, item.month_only, item.source_text)
                for due in occurrences(item, today, horizon, cal)
            )
        elif item.kind == ScheduleKind.RECURRING:
            # A "done" entry meets an occurrence from its start, so all of them count.
            met = met_occurrences(recurring_dates(item, today + BEFORE_HORIZON, cal), done_days)
            found.extend(
                _Dated(due, item.kind, item.body, False, item.source_text)
                for due in occurrences(item, today, horizon, cal)
                if due not in met
            )
    return found


def _objective_plans(
    ctx: NoticeContext,
    objective: Scope,
    last_progress: dt.datetime | None,
    done_days: Sequence[dt.date],
) -> Iterator[PlannedDelivery]:
    if objective.status != ObjectiveStatus.OPEN:
        return
    today = local_date(ctx.now, ctx.zone)
    seen: set[dt.date] = set()
    # Overdue: exactly what the views call overdue (bot.plan.schedule.overdue_items).
    for late in overdue_items(objective, today, done_days, ctx.policy, ctx.cal):
        if late.due_on in seen:
            continue
        seen.add(late.due_on)
        until = local_instant(late.until, ctx.policy.send_at, ctx.zone) if late.until else None
        what = _Dated(late.due_on, late.kind, late.body, late.month_only, late.source_text)
        yield from _dated_plans(ctx, objective, what, overdue_until=until)
    for what in _upcoming(objective, today, done_days, ctx.cal):
        if what.due in seen:
            continue
        seen.add(what.due)
        yield from _dated_plans(ctx, objective, what, overdue_until=None)
    if any(item.kind == ScheduleKind.ONGOING for item in objective.schedule):
        yield from _quiet_plans(ctx, objective, last_progress)


def _quiet_plans(
    ctx: NoticeContext, objective: Scope, last_progress: dt.datetime | None
) -> Iterator[PlannedDelivery]:
    last = max(filter(None, (last_progress, objective.created_at)))
    notice = quiet_prompt(last, ctx.now, ctx.policy, ctx.zone, ctx.cal)
    if notice is None or _snoozed(objective, notice) or held(ctx, notice):
        return
    owners = _owner_targets(objective)
    targets = owners or ([ctx.channel] if ctx.channel else [])
    payload = _base_payload(objective, notice) | {
        "last_progress": last_progress.isoformat() if last_progress else None,
        "no_owner": not owners,
    }
    for target in targets:
        yield PlannedDelivery(
            key=f"quiet:{objective.key}:{notice.on.isoformat()}:{target}",
            kind="quiet",
            target=target,
            occurrence=notice.at,
            objective_id=objective.id,
            payload=dict(payload),
            useful_until=notice.useful_until,
        )


def reminder_source(
    session: Session, partnership: Partnership, now: dt.datetime
) -> list[PlannedDelivery]:
    """The reminders to send at ``now`` for one partnership: every live notice, with what
    was already overdue at a plan load or a new channel summarised once, and overdue
    notices a digest lists left to it (:func:`bot.notices.catch_up.apply_catch_up`)."""
    ctx = _context(partnership, now)
    return apply_catch_up(session, ctx, reminder_plans(session, partnership, now, ctx))


def _context(partnership: Partnership, now: dt.datetime) -> NoticeContext:
    return NoticeContext(
        partnership=partnership,
        policy=policy_for(partnership),
        zone=ZoneInfo(partnership.timezone),
        cal=partnership_calendar(partnership),
        now=now,
        channel=partnership.partnership_channel,
    )


def reminder_plans(
    session: Session,
    partnership: Partnership,
    now: dt.datetime,
    ctx: NoticeContext | None = None,
) -> list[PlannedDelivery]:
    """Every reminder notice live at ``now`` for one partnership, each on its own."""
    ctx = ctx or _context(partnership, now)
    zone = ctx.zone
    objectives = open_objectives(session, partnership)
    ids = [o.id for o in objectives]
    last_progress: dict[int, dt.datetime] = {}
    if ids:
        for oid, at in last_progress_at(session, ids):
            if at is not None:
                last_progress[oid] = _aware(at)
    done_days = progress_facts(session, partnership, ids).done_days
    planned: list[PlannedDelivery] = []
    by_action = action_done_days(session, partnership, objectives)
    for objective in objectives:
        for scope in scopes(objective):
            days = (
                done_days.get(objective.id, ())
                if scope.action_id is None
                else by_action.get(scope.action_id, ())
            )
            planned.extend(_objective_plans(ctx, scope, last_progress.get(objective.id), days))
    today = local_date(now, zone)
    meetings = meetings_between(
        session,
        partnership,
        (today - dt.timedelta(days=40)).replace(day=1),
        today + dt.timedelta(days=70),
    )
    if meetings:
        owners_by_objective: dict[int, list[str]] = defaultdict(list)
        for objective in objectives:
            owners_by_objective[objective.id] = list(
                dict.fromkeys(o.slack_user_id for o in objective.owners if o.slack_user_id)
            )
        admins = admin_ids(session, partnership.id)
        for meeting in meetings:
            owners = owners_by_objective.get(meeting.objective_id or -1, [])
            planned.extend(meeting_plans(ctx, meeting, owners, admins))
    return planned


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
