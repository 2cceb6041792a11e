"""Schedule maths shared by the views and the reminders: labels, occurrences, overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

from bot.plan.models import ItemLike, ObjectiveLike
from bot.time.policy import ReminderPolicy, first_notice_day
from bot.time.workdays import default_calendar
from store.models import ObjectiveStatus, Partnership, ScheduleKind

DATED_KINDS = (ScheduleKind.DEADLINE, ScheduleKind.MILESTONE)


def month_label(day: dt.date) -> str:
    return day.strftime("%B %Y")


def item_label(item: ItemLike) -> str:
    if item.kind == ScheduleKind.RECURRING:
        return item.source_text or "recurring"
    if item.kind == ScheduleKind.ONGOING:
        return "ongoing"
    if item.kind == ScheduleKind.UNPARSED:
        return f"needs a date: {item.source_text}"
    if item.due_on is None:
        return item.source_text
    text = month_label(item.due_on) if item.month_only else item.due_on.strftime("%-d %B %Y")
    return f"{text} ({item.body})" if item.body else text


@lru_cache(maxsize=4096)
def _parsed_rule(rule: str, dtstart: dt.date) -> rrule:
    parsed = rrulestr(rule, dtstart=dt.datetime.combine(dtstart, dt.time()))
    if not isinstance(parsed, rrule):
        raise ValueError(f"expected a single recurrence rule, got {rule!r}")
    return parsed


def next_occurrence(rule: str, dtstart: dt.date, on_or_after: dt.date) -> dt.date | None:
    parsed = _parsed_rule(rule, dtstart)
    hit = parsed.after(dt.datetime.combine(on_or_after, dt.time()), inc=True)
    return hit.date() if hit is not None else None


def upcoming_dates(objective: ObjectiveLike, today: dt.date) -> list[tuple[dt.date, str]]:
    """Every dated thing from today on for one objective, soonest first."""
    return [(when, label) for when, label, _ in upcoming_items(objective, today)]


def upcoming_items(objective: ObjectiveLike, today: dt.date) -> list[tuple[dt.date, str, bool]]:
    """Like :func:`upcoming_dates`, with a third value: True when the thing is known
    only to the month (an undated meeting, a month-only deadline), so its date is a
    sort key, not a day to show."""
    found: list[tuple[dt.date, str, bool]] = []
    for item in objective.schedule:
        if item.kind in DATED_KINDS and item.due_on is not None and item.done_at is None:
            if item.due_on >= today:
                found.append((item.due_on, item_label(item), item.month_only))
        elif item.kind == ScheduleKind.RECURRING and item.rrule and item.due_on is not None:
            hit = next_occurrence(item.rrule, item.due_on, today)
            if hit is not None and item.month_only:
                # "every March": due on the month's last working day.
                hit = default_calendar().on_or_before(hit)
            if hit is not None:
                found.append((hit, item.source_text or "recurring", False))
    for meeting in objective.meetings:
        when = meeting.meeting_date or meeting.month
        if (meeting.meeting_date or _month_end(meeting.month)) >= today:
            label = (
                f"{meeting.body} meeting {meeting.meeting_date.strftime('%-d %B %Y')}"
                if meeting.meeting_date
                else f"{meeting.body} meeting, {month_label(meeting.month)} (date to be set)"
            )
            found.append((when, label, meeting.meeting_date is None))
    found.sort(key=lambda entry: entry[0])
    return found


def _month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


# --------------------------------------------------------------------------- overdue
#
# The one definition of "overdue", used by every view (`/csp due`, the plan list, App
# Home, the weekly digest) and by the reminder engine's weekly overdue notices:
#
# * a dated deadline or milestone is overdue from the day after its date until it is
#   marked done (its ``done_at``) or the objective is closed or waived;
# * an occurrence of a recurring item ("31 March annually") is overdue from the day
#   after it until a "done" progress entry meets it, or until the next occurrence's
#   first reminder begins (from then on the next occurrence is what people are asked
#   about). Each "done" entry meets one occurrence: the earliest one not yet met that
#   falls due no more than 60 days after it (early returns count, and a late "done"
#   closes the late occurrence first, as ``done`` closes the earliest dated item);
# * meetings, ongoing work and undated items are never overdue.
#
# A snooze only silences notices: a snoozed item is still overdue in every view.

RECURRING_DONE_WINDOW = dt.timedelta(days=60)


@dataclass(frozen=True)
class OverdueItem:
    """One overdue occurrence of a dated or recurring schedule item."""

    due_on: dt.date
    kind: str
    label: str
    body: str | None
    month_only: bool
    recurring: bool
    source_text: str
    # Recurring occurrences stop being overdue on this local day (the next occurrence's
    # first reminder); None for dated items, which stay overdue until done.
    until: dt.date | None = None


def recurring_dates(item: ItemLike, up_to: dt.date) -> list[dt.date]:
    """Every occurrence of a recurring item from its start to ``up_to``, soonest first
    ("every March" items fall on the month's last working day)."""
    if item.kind != ScheduleKind.RECURRING or not item.rrule or item.due_on is None:
        return []
    rule = _parsed_rule(item.rrule, item.due_on)
    start = dt.datetime.combine(item.due_on, dt.time())
    end = dt.datetime.combine(up_to, dt.time())
    dates = [d.date() for d in rule.between(start, end, inc=True)]
    if item.month_only:
        cal = default_calendar()
        dates = [cal.on_or_before(d) for d in dates]
    return dates


def met_occurrences(dates: Sequence[dt.date], done_days: Iterable[dt.date]) -> set[dt.date]:
    """The occurrences in ``dates`` that "done" entries (local days) meet: each entry
    meets the earliest occurrence not yet met that is due no more than 60 days after it."""
    open_dates = sorted(dates)
    met: set[dt.date] = set()
    for done in sorted(done_days):
        for due in open_dates:
            if due in met:
                continue
            if due - RECURRING_DONE_WINDOW <= done:
                met.add(due)
            break
    return met


def overdue_items(
    objective: ObjectiveLike,
    today: dt.date,
    done_days: Iterable[dt.date] = (),
    policy: ReminderPolicy | None = None,
) -> list[OverdueItem]:
    """What is overdue for ``objective`` on local day ``today``, oldest first.

    ``done_days`` are the local days of its "done" progress entries (they meet recurring
    occurrences); ``policy`` says when the next occurrence's first reminder begins.
    """
    if objective.status != ObjectiveStatus.OPEN:
        return []
    policy = policy or ReminderPolicy()
    done_list = sorted(done_days)
    found: list[OverdueItem] = []
    for item in objective.schedule:
        if item.kind in DATED_KINDS:
            if item.due_on is not None and item.done_at is None and item.due_on < today:
                found.append(
                    OverdueItem(
                        due_on=item.due_on,
                        kind=item.kind,
                        label=item_label(item),
                        body=item.body,
                        month_only=item.month_only,
                        recurring=False,
                        source_text=item.source_text,
                    )
                )
        elif item.kind == ScheduleKind.RECURRING:
            found.extend(_overdue_occurrences(item, today, done_list, policy))
    found.sort(key=lambda o: o.due_on)
    return found


def _overdue_occurrences(
    item: ItemLike, today: dt.date, done_days: Sequence[dt.date], policy: ReminderPolicy
) -> list[OverdueItem]:
    dates = recurring_dates(item, today + dt.timedelta(days=400))
    if not dates or dates[0] >= today:
        return []
    met = met_occurrences(dates, done_days)
    cal = default_calendar()
    found: list[OverdueItem] = []
    for i, due in enumerate(dates):
        if due >= today:
            break
        until = None
        if i + 1 < len(dates):
            until = first_notice_day(dates[i + 1], policy, cal)
        if due in met or (until is not None and today >= until):
            continue
        found.append(
            OverdueItem(
                due_on=due,
                kind=item.kind,
                label=item.source_text or "recurring",
                body=item.body,
                month_only=False,
                recurring=True,
                source_text=item.source_text,
                until=until,
            )
        )
    return found


def reminder_policy(partnership: Partnership) -> ReminderPolicy:
    """The partnership's reminder policy as far as the overdue rule needs it (a bad
    setting falls back to the defaults here; the reminder engine reports it)."""
    try:
        return ReminderPolicy.from_settings(partnership.settings)
    except ValueError:
        return ReminderPolicy()
