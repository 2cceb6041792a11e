"""Reminder renderers: a stored deadline, overdue or progress-check delivery as a message.

They re-read the plan, so a reminder for something marked done, snoozed or met since it
was planned is dropped (the renderer returns None).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage
from bot.notices.notice_policy import policy_for
from bot.notices.queries import objective_by_id
from bot.notices.reminder_sources import DATED
from bot.plan.actions import Scope, number_of, scope_of
from bot.plan.reading import action_done_days, progress_facts
from bot.plan.schedule import overdue_items, partnership_calendar
from bot.plan.years import local_date
from bot.time.words import long_date, month_year
from store.models import Delivery, ObjectiveStatus, ScheduleItem, ScheduleKind


def _item_for(objective: Scope, due: dt.date | None, item: object) -> ScheduleItem | None:
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
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.slack.reminders import ReminderView, build_reminder_blocks, reminder_text

    objective = objective_by_id(session, delivery.objective_id) if delivery.objective_id else None
    if objective is None:
        return None
    payload = delivery.payload
    scope = scope_of(objective, payload.get("action_id"))
    if scope.status != ObjectiveStatus.OPEN:
        return None
    if objective.snoozed_until is not None and objective.snoozed_until > now:
        return None
    due = _date(payload.get("due_on"))
    if due is not None and any(i.due_on == due and i.done_at is not None for i in scope.schedule):
        return None
    if due is not None and delivery.kind == "overdue":
        partnership = objective.partnership
        today = local_date(now, partnership.timezone)
        facts = progress_facts(session, partnership, [objective.id])
        done_days = (
            facts.done_days.get(objective.id, ())
            if scope.action_id is None
            else action_done_days(session, partnership, [objective]).get(scope.action_id, ())
        )
        late = overdue_items(
            scope,
            today,
            done_days,
            policy_for(partnership),
            partnership_calendar(partnership),
        )
        if all(o.due_on != due for o in late):
            return None  # met or superseded since it was planned
    owners = tuple(o.slack_user_id or o.label for o in scope.owners)
    has_slack_owner = any(o.slack_user_id for o in scope.owners)
    label = payload.get("label")
    if due is not None and payload.get("month_only"):
        label = f"by {long_date(due)} ({month_year(due)})"
    last = payload.get("last_progress")
    item = _item_for(scope, due, payload.get("item"))
    zone = objective.partnership.timezone
    view = ReminderView(
        kind=delivery.kind,
        stage=str(payload.get("stage", "")),
        objective_id=objective.id,
        title=objective.title
        if scope.action is None
        else f"{objective.title}, action {scope.action}",
        today=local_date(now, objective.partnership.timezone),
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
        action_number=number_of(objective, scope.action_id),
    )
    return OutboundMessage(text=reminder_text(view), blocks=build_reminder_blocks(view))
