"""Reminder sources: what deadline, meeting and progress-check notices are due now.

:func:`reminder_source` reads the plan (objectives, schedule items, meetings, progress)
and proposes the notices *live* at ``now`` (see :mod:`bot.time.policy`): a notice whose send
instant has come and whose useful window has not closed. Each has a stable key per
(target, kind, occurrence) so the outbox inserts it once, whichever process or sweep
sees it first. The renderers registered here turn a stored delivery into a message,
re-reading the plan so a reminder for something marked done meanwhile is dropped.

Targets: owners with a Slack account get a DM (target = user id); overdue items and
meetings also go to the partnership channel; an objective with no owner in Slack has
its reminders posted to the channel with a prompt to assign one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.deliveries import (
    OutboundMessage,
    PlannedDelivery,
    calendar_driven,
    register_renderer,
)
from bot.plan.reading import progress_facts
from bot.plan.schedule import met_occurrences, overdue_items, recurring_dates
from bot.plan.years import local_date
from bot.slack.reminders import (
    DeliveryFailureView,
    MeetingNoticeView,
    ReminderView,
    SetDatePromptView,
    build_delivery_failure_blocks,
    build_meeting_notice_blocks,
    build_reminder_blocks,
    build_set_date_blocks,
    failure_text,
    meeting_text,
    reminder_text,
    set_date_text,
)
from bot.time.policy import (
    Notice,
    ReminderPolicy,
    deadline_notices,
    held_for_working_hours,
    latest_overdue,
    local_instant,
    meeting_notices,
    quiet_prompt,
    set_date_prompt,
)
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import (
    Delivery,
    Meeting,
    Member,
    Objective,
    ObjectiveStatus,
    Partnership,
    ProgressEntry,
    Role,
    ScheduleItem,
    ScheduleKind,
)

KIND_DEADLINE = "deadline"
KIND_OVERDUE = "overdue"
KIND_QUIET = "quiet"
KIND_MEETING = "meeting"
KIND_SET_DATE = "meeting_set_date"
KIND_FAILED = "delivery_failed"

DATED = (ScheduleKind.DEADLINE, ScheduleKind.MILESTONE)
# How far ahead a dated occurrence can have a live "before" notice (14 days, moved back
# over a long weekend, with room to spare).
BEFORE_HORIZON = dt.timedelta(days=20)


_DEFAULTS = {"digest_at": "mon 09:00"}


def configure_defaults(*, digest_at: str) -> None:
    """Set process-wide defaults from Settings (CSP_DIGEST_AT); partnerships may override."""
    _DEFAULTS["digest_at"] = digest_at


def policy_for(partnership: Partnership, digest_default: str | None = None) -> ReminderPolicy:
    """The partnership's reminder policy (defaults where its settings say nothing)."""
    return ReminderPolicy.from_settings(
        partnership.settings, digest_default=digest_default or _DEFAULTS["digest_at"]
    )


@dataclass(frozen=True)
class _Ctx:
    partnership: Partnership
    policy: ReminderPolicy
    zone: ZoneInfo
    cal: WorkingCalendar
    now: dt.datetime
    channel: str | None


def _held(ctx: _Ctx, notice: Notice) -> bool:
    """A late (catch-up) notice outside working hours: propose it at the next sweep in
    working hours instead, if it is still useful then."""
    return held_for_working_hours(notice.at, ctx.now, ctx.policy, ctx.zone, ctx.cal)


def _live(notices: list[Notice], now: dt.datetime) -> Notice | None:
    live = [n for n in notices if n.at <= now and (n.useful_until is None or now < n.useful_until)]
    return live[-1] if live else None


def _snoozed(objective: Objective, notice: Notice) -> bool:
    until = objective.snoozed_until
    return until is not None and notice.at < until


def _owner_targets(objective: Objective) -> list[str]:
    return [o.slack_user_id for o in objective.owners if o.slack_user_id]


def _base_payload(objective: Objective, notice: Notice) -> dict[str, object]:
    return {
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
    ctx: _Ctx,
    objective: Objective,
    what: _Dated,
    *,
    overdue_until: dt.datetime | None,
) -> Iterator[PlannedDelivery]:
    """The live notice (before, on the day, or overdue) for one dated occurrence.

    Callers pass only occurrences that are upcoming or overdue by
    :func:`bot.plan.core.overdue_items`, so notices and views agree on what is overdue.
    """
    due = what.due
    owners = _owner_targets(objective)
    notice = _live(deadline_notices(due, ctx.policy, ctx.zone, ctx.cal), ctx.now)
    kind = KIND_DEADLINE
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
        kind = KIND_OVERDUE
    if _snoozed(objective, notice) or _held(ctx, notice):
        return
    targets = list(owners) or ([ctx.channel] if ctx.channel else [])
    if kind == KIND_OVERDUE and ctx.channel and ctx.channel not in targets:
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
            key=f"rem:o{objective.id}:{due.isoformat()}:{notice.stage}:{target}",
            kind=kind,
            target=target,
            occurrence=notice.at,
            objective_id=objective.id,
            payload=dict(payload),
            useful_until=notice.useful_until,
        )


def _upcoming(objective: Objective, today: dt.date, done_days: Sequence[dt.date]) -> list[_Dated]:
    """Dated occurrences from today on whose "before" notices may be live."""
    found: list[_Dated] = []
    for item in objective.schedule:
        if item.kind in DATED and item.due_on is not None and item.done_at is None:
            if today <= item.due_on <= today + BEFORE_HORIZON:
                found.append(
                    _Dated(item.due_on, item.kind, item.body, item.month_only, item.source_text)
                )
        elif item.kind == ScheduleKind.RECURRING:
            dates = recurring_dates(item, today + BEFORE_HORIZON)
            met = met_occurrences(dates, done_days)
            found.extend(
                _Dated(due, item.kind, item.body, False, item.source_text)
                for due in dates
                if due >= today and due not in met
            )
    return found


def _objective_plans(
    ctx: _Ctx,
    objective: Objective,
    last_progress: dt.datetime | None,
    done_days: Sequence[dt.date],
) -> Iterator[PlannedDelivery]:
    if objective.status != ObjectiveStatus.OPEN:
        return
    today = local_date(ctx.now, ctx.zone)
    seen: set[dt.date] = set()
    # Overdue: exactly what the views call overdue (bot.plan.core.overdue_items).
    for late in overdue_items(objective, today, done_days, ctx.policy):
        if late.due_on in seen:
            continue
        seen.add(late.due_on)
        until = local_instant(late.until, ctx.policy.send_at, ctx.zone) if late.until else None
        what = _Dated(late.due_on, late.kind, late.body, late.month_only, late.source_text)
        yield from _dated_plans(ctx, objective, what, overdue_until=until)
    for what in _upcoming(objective, today, done_days):
        if what.due in seen:
            continue
        seen.add(what.due)
        yield from _dated_plans(ctx, objective, what, overdue_until=None)
    if any(item.kind == ScheduleKind.ONGOING for item in objective.schedule):
        yield from _quiet_plans(ctx, objective, last_progress)


def _quiet_plans(
    ctx: _Ctx, objective: Objective, last_progress: dt.datetime | None
) -> Iterator[PlannedDelivery]:
    last = max(filter(None, (last_progress, objective.created_at)))
    notice = quiet_prompt(last, ctx.now, ctx.policy, ctx.zone, ctx.cal)
    if notice is None or _snoozed(objective, notice) or _held(ctx, notice):
        return
    owners = _owner_targets(objective)
    targets = owners or ([ctx.channel] if ctx.channel else [])
    payload = _base_payload(objective, notice) | {
        "last_progress": last_progress.isoformat() if last_progress else None,
        "no_owner": not owners,
    }
    for target in targets:
        yield PlannedDelivery(
            key=f"quiet:o{objective.id}:{notice.on.isoformat()}:{target}",
            kind=KIND_QUIET,
            target=target,
            occurrence=notice.at,
            objective_id=objective.id,
            payload=dict(payload),
            useful_until=notice.useful_until,
        )


def _meeting_plans(
    ctx: _Ctx, meeting: Meeting, owners: list[str], admins: list[str]
) -> Iterator[PlannedDelivery]:
    if meeting.meeting_date is None:
        notice = set_date_prompt(meeting.month, ctx.policy, ctx.zone, ctx.cal)
        if not (
            notice.at <= ctx.now and (notice.useful_until is None or ctx.now < notice.useful_until)
        ) or _held(ctx, notice):
            return
        targets = admins or ([ctx.channel] if ctx.channel else [])
        for target in targets:
            yield PlannedDelivery(
                key=f"meet:m{meeting.id}:{meeting.month.isoformat()}:set_date:{target}",
                kind=KIND_SET_DATE,
                target=target,
                occurrence=notice.at,
                meeting_id=meeting.id,
                payload={"body": meeting.body, "month": meeting.month.isoformat()},
                useful_until=notice.useful_until,
            )
        return
    notices = meeting_notices(
        meeting.meeting_date, meeting.start_time, ctx.policy, ctx.zone, ctx.cal
    )
    live = _live(notices, ctx.now)
    if live is None or _held(ctx, live):
        return
    targets = ([ctx.channel] if ctx.channel else []) + [o for o in owners if o != ctx.channel]
    for target in targets:
        yield PlannedDelivery(
            key=f"meet:m{meeting.id}:{meeting.meeting_date.isoformat()}:{live.stage}:{target}",
            kind=KIND_MEETING,
            target=target,
            occurrence=live.at,
            meeting_id=meeting.id,
            objective_id=meeting.objective_id,
            payload={
                "body": meeting.body,
                "stage": live.stage,
                "meeting_date": meeting.meeting_date.isoformat(),
            },
            useful_until=live.useful_until,
        )


@calendar_driven
def reminder_source(
    session: Session, partnership: Partnership, now: dt.datetime
) -> list[PlannedDelivery]:
    """Every reminder notice live at ``now`` for one partnership."""
    zone = ZoneInfo(partnership.timezone)
    ctx = _Ctx(
        partnership=partnership,
        policy=policy_for(partnership),
        zone=zone,
        cal=default_calendar(),
        now=now,
        channel=partnership.partnership_channel,
    )
    objectives = list(
        session.scalars(
            select(Objective)
            .where(
                Objective.partnership_id == partnership.id,
                Objective.plan_year == partnership.plan_year,
                Objective.status == ObjectiveStatus.OPEN,
            )
            .order_by(Objective.position, Objective.id)
            .options(selectinload(Objective.owners), selectinload(Objective.schedule))
        )
    )
    ids = [o.id for o in objectives]
    last_progress: dict[int, dt.datetime] = {}
    if ids:
        for oid, at in session.execute(
            select(ProgressEntry.objective_id, func.max(ProgressEntry.created_at))
            .where(ProgressEntry.objective_id.in_(ids))
            .group_by(ProgressEntry.objective_id)
        ):
            if at is not None:
                last_progress[oid] = _aware(at)
    done_days = progress_facts(session, partnership, ids).done_days
    planned: list[PlannedDelivery] = []
    for objective in objectives:
        planned.extend(
            _objective_plans(
                ctx, objective, last_progress.get(objective.id), done_days.get(objective.id, ())
            )
        )
    today = local_date(now, zone)
    meetings = session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership.id,
            Meeting.month >= (today - dt.timedelta(days=40)).replace(day=1),
            Meeting.month <= (today + dt.timedelta(days=70)),
        )
    ).all()
    if meetings:
        owners_by_objective: dict[int, list[str]] = defaultdict(list)
        for objective in objectives:
            owners_by_objective[objective.id] = _owner_targets(objective)
        admins = list(
            session.scalars(
                select(Member.slack_user_id)
                .where(Member.partnership_id == partnership.id, Member.role == Role.ADMIN)
                .order_by(Member.id)
            )
        )
        for meeting in meetings:
            owners = owners_by_objective.get(meeting.objective_id or -1, [])
            planned.extend(_meeting_plans(ctx, meeting, owners, admins))
    return planned


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- renderers


def _today(partnership: Partnership, now: dt.datetime) -> dt.date:
    return local_date(now, partnership.timezone)


def _item_for(objective: Objective, due: dt.date | None, item: object) -> ScheduleItem | None:
    """The schedule item a dated reminder is about: the deadline or milestone due that
    day (an open one first), else the recurring item (``item`` is the payload's kind)."""
    if due is None:
        return None
    dated = [i for i in objective.schedule if i.kind in DATED and i.due_on == due]
    if dated:
        return min(dated, key=lambda i: (i.done_at is not None, i.id))
    if item == ScheduleKind.RECURRING:
        return next((i for i in objective.schedule if i.kind == ScheduleKind.RECURRING), None)
    return None


def _date(value: object) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def render_reminder(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    """Deadline, overdue and progress-check reminders; None when no longer relevant."""
    objective = session.get(Objective, delivery.objective_id) if delivery.objective_id else None
    if objective is None or objective.status != ObjectiveStatus.OPEN:
        return None
    if objective.snoozed_until is not None and objective.snoozed_until > now:
        return None
    payload = delivery.payload
    due = _date(payload.get("due_on"))
    if due is not None and any(
        i.due_on == due and i.done_at is not None for i in objective.schedule
    ):
        return None
    if due is not None and delivery.kind == KIND_OVERDUE:
        partnership = objective.partnership
        today = _today(partnership, now)
        facts = progress_facts(session, partnership, [objective.id])
        late = overdue_items(
            objective, today, facts.done_days.get(objective.id, ()), policy_for(partnership)
        )
        if all(o.due_on != due for o in late):
            return None  # met or superseded since it was planned
    owners = tuple(o.slack_user_id or o.label for o in objective.owners)
    has_slack_owner = any(o.slack_user_id for o in objective.owners)
    label = payload.get("label")
    if due is not None and payload.get("month_only"):
        label = f"by {due.strftime('%-d %B %Y')} ({due.strftime('%B %Y')})"
    last = payload.get("last_progress")
    item = _item_for(objective, due, payload.get("item"))
    zone = objective.partnership.timezone
    view = ReminderView(
        kind=delivery.kind,
        stage=str(payload.get("stage", "")),
        objective_id=objective.id,
        title=objective.title,
        today=_today(objective.partnership, now),
        due_on=due,
        due_label=str(label) if label else None,
        body=payload.get("body") if isinstance(payload.get("body"), str) else None,
        owners=owners,
        no_owner=not has_slack_owner,
        late=delivery.late,
        planned_for=_date(payload.get("planned_for")),
        last_progress_on=(
            local_date(dt.datetime.fromisoformat(last), zone) if isinstance(last, str) else None
        ),
        statutory_basis=objective.statutory_basis,
        item_id=item.id if item is not None else None,
    )
    return OutboundMessage(text=reminder_text(view), blocks=build_reminder_blocks(view))


def render_meeting(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    meeting = session.get(Meeting, delivery.meeting_id) if delivery.meeting_id else None
    if meeting is None or meeting.meeting_date is None:
        return None
    if meeting.meeting_date.isoformat() != delivery.payload.get("meeting_date"):
        return None  # moved since this notice was planned; the new date has its own
    partnership = session.get(Partnership, meeting.partnership_id)
    assert partnership is not None
    view = MeetingNoticeView(
        stage=str(delivery.payload.get("stage", "")),
        meeting_id=meeting.id,
        body=meeting.body,
        meeting_date=meeting.meeting_date,
        today=_today(partnership, now),
        start_time=meeting.start_time,
        place=meeting.place,
        papers_due=meeting.papers_due,
        objective_id=meeting.objective_id,
        objective_title=meeting.objective.title if meeting.objective else None,
        late=delivery.late,
    )
    return OutboundMessage(text=meeting_text(view), blocks=build_meeting_notice_blocks(view))


def render_set_date(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    meeting = session.get(Meeting, delivery.meeting_id) if delivery.meeting_id else None
    if meeting is None or meeting.meeting_date is not None:
        return None
    partnership = session.get(Partnership, meeting.partnership_id)
    assert partnership is not None
    view = SetDatePromptView(
        meeting_id=meeting.id,
        body=meeting.body,
        month=meeting.month,
        today=_today(partnership, now),
        late=delivery.late,
    )
    return OutboundMessage(text=set_date_text(view), blocks=build_set_date_blocks(view))


def render_failure(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage:
    view = DeliveryFailureView(
        reason=str(delivery.payload.get("reason", "unknown")),
        target=str(delivery.payload.get("failed_target", "")),
        kind=str(delivery.payload.get("failed_kind", "reminder")),
        failed_at=now,
    )
    return OutboundMessage(text=failure_text(view), blocks=build_delivery_failure_blocks(view))


def failure_notices(
    session: Session,
    partnership_id: int,
    *,
    reason: str,
    failed_target: str,
    failed_kind: str,
    now: dt.datetime,
) -> list[PlannedDelivery]:
    """One DM per admin per (failure reason, target): keyed, so admins hear once."""
    admins = list(
        session.scalars(
            select(Member.slack_user_id)
            .where(Member.partnership_id == partnership_id, Member.role == Role.ADMIN)
            .order_by(Member.id)
        )
    )
    return [
        PlannedDelivery(
            key=f"fail:p{partnership_id}:{reason}:{failed_target}:{admin}",
            kind=KIND_FAILED,
            target=admin,
            occurrence=now,
            payload={"reason": reason, "failed_target": failed_target, "failed_kind": failed_kind},
            useful_until=now + dt.timedelta(days=7),
        )
        for admin in admins
        if admin != failed_target
    ]


register_renderer(KIND_DEADLINE, render_reminder)
register_renderer(KIND_OVERDUE, render_reminder)
register_renderer(KIND_QUIET, render_reminder)
register_renderer(KIND_MEETING, render_meeting)
register_renderer(KIND_SET_DATE, render_set_date)
register_renderer(KIND_FAILED, render_failure)
