"""Schedule maths shared by the views and the reminders: labels, occurrences, overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.plan.models import ItemLike, ObjectiveLike
from bot.time.policy import ReminderPolicy, first_notice_day
from bot.time.recurrence import dates_between, rule_dates
from bot.time.words import long_date, month_year
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import ObjectiveStatus, Partnership, ScheduleKind

DATED_KINDS = (ScheduleKind.DEADLINE, ScheduleKind.MILESTONE)


def month_label(day: dt.date) -> str:
    return month_year(day)


def item_label(item: ItemLike) -> str:
    if item.kind == ScheduleKind.RECURRING:
        return item.source_text or "recurring"
    if item.kind == ScheduleKind.ONGOING:
        return "ongoing"
    if item.kind == ScheduleKind.UNPARSED:
        return f"needs a date: {item.source_text}"
    if item.due_on is None:
        return item.source_text
    text = month_label(item.due_on) if item.month_only else long_date(item.due_on)
    return f"{text} ({item.body})" if item.body else text


def partnership_calendar(partnership: Partnership) -> WorkingCalendar:
    """The partnership's working calendar: England and Wales working days, less its own
    closure days (settings ``closure_dates``). Every due date is reckoned on it."""
    closures = (partnership.settings or {}).get("closure_dates") or []
    dates: list[dt.date] = []
    for closure in closures:
        try:
            dates.append(dt.date.fromisoformat(str(closure)))
        except ValueError:
            continue
    return _calendar(frozenset(dates))


@lru_cache(maxsize=64)
def _calendar(closures: frozenset[dt.date]) -> WorkingCalendar:
    return WorkingCalendar(closures) if closures else default_calendar()


# --------------------------------------------------------------------------- occurrences
#
# The one rule for when a schedule item falls due, used by every view (`/csp due`, the
# plan, App Home, the digest) and by the reminders: a dated deadline or milestone falls
# due on its date until it is marked done; a recurring item on each date of its rule
# from its start, month-only rules ("every March") moved back to the last working day
# of the partnership's calendar, but never before the day the item was made (its
# ``created_on``): a "Quarterly" item added in December is first due at the end of
# December, not overdue since September; other items never fall due.


def _first_day(item: ItemLike, on_or_after: dt.date) -> dt.date:
    """``on_or_after``, moved on to the day a recurring item was made if that is later."""
    made = item.created_on
    return made if made is not None and made > on_or_after else on_or_after


def occurrences(
    item: ItemLike, on_or_after: dt.date, before: dt.date, cal: WorkingCalendar
) -> list[dt.date]:
    """The days ``item`` falls due in the half-open window ``on_or_after <= day < before``."""
    if item.kind in DATED_KINDS:
        due = item.due_on
        if due is not None and item.done_at is None and on_or_after <= due < before:
            return [due]
        return []
    if item.kind == ScheduleKind.RECURRING and item.rrule and item.due_on is not None:
        return dates_between(
            item.rrule,
            item.due_on,
            _first_day(item, on_or_after),
            before,
            cal,
            roll_back=item.month_only,
        )
    return []


def next_occurrence(item: ItemLike, on_or_after: dt.date, cal: WorkingCalendar) -> dt.date | None:
    """The first day ``item`` falls due on or after ``on_or_after`` (None: never again)."""
    if item.kind == ScheduleKind.RECURRING and item.rrule and item.due_on is not None:
        start = _first_day(item, on_or_after)
        dates = rule_dates(item.rrule, item.due_on, start, cal, roll_back=item.month_only)
        return next(dates, None)
    found = occurrences(item, on_or_after, dt.date.max, cal)
    return found[0] if found else None


def upcoming_dates(
    objective: ObjectiveLike, today: dt.date, cal: WorkingCalendar | None = None
) -> list[tuple[dt.date, str]]:
    """Every dated thing from today on for one objective, soonest first."""
    return [(when, label) for when, label, _ in upcoming_items(objective, today, cal)]


def upcoming_items(
    objective: ObjectiveLike, today: dt.date, cal: WorkingCalendar | None = None
) -> list[tuple[dt.date, str, bool]]:
    """Like :func:`upcoming_dates`, with a third value: True when the thing is known
    only to the month (an undated meeting, a month-only deadline), so its date is a
    sort key, not a day to show."""
    cal = cal or default_calendar()
    found: list[tuple[dt.date, str, bool]] = []
    for item in objective.schedule:
        hit = next_occurrence(item, today, cal)
        if hit is None:
            continue
        if item.kind == ScheduleKind.RECURRING:
            found.append((hit, item.source_text or "recurring", False))
        else:
            found.append((hit, item_label(item), item.month_only))
    for meeting in objective.meetings:
        when = meeting.meeting_date or meeting.month
        if (meeting.meeting_date or _month_end(meeting.month)) >= today:
            label = (
                f"{meeting.body} meeting {long_date(meeting.meeting_date)}"
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


def recurring_dates(
    item: ItemLike, up_to: dt.date, cal: WorkingCalendar | None = None
) -> list[dt.date]:
    """Every occurrence of a recurring item from its start to ``up_to``, soonest first."""
    if item.kind != ScheduleKind.RECURRING or item.due_on is None:
        return []
    return occurrences(item, dt.date.min, up_to + dt.timedelta(days=1), cal or default_calendar())


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
    cal: WorkingCalendar | None = None,
) -> list[OverdueItem]:
    """What is overdue for ``objective`` on local day ``today``, oldest first.

    ``done_days`` are the local days of its "done" progress entries (they meet recurring
    occurrences); ``policy`` says when the next occurrence's first reminder begins.
    """
    if objective.status != ObjectiveStatus.OPEN:
        return []
    policy = policy or ReminderPolicy()
    cal = cal or default_calendar()
    done_list = sorted(done_days)
    found: list[OverdueItem] = []
    for item in objective.schedule:
        if item.kind in DATED_KINDS:
            found.extend(
                OverdueItem(
                    due_on=due,
                    kind=item.kind,
                    label=item_label(item),
                    body=item.body,
                    month_only=item.month_only,
                    recurring=False,
                    source_text=item.source_text,
                )
                for due in occurrences(item, dt.date.min, today, cal)
            )
        elif item.kind == ScheduleKind.RECURRING:
            found.extend(_overdue_occurrences(item, today, done_list, policy, cal))
    found.sort(key=lambda o: o.due_on)
    return found


def _overdue_occurrences(
    item: ItemLike,
    today: dt.date,
    done_days: Sequence[dt.date],
    policy: ReminderPolicy,
    cal: WorkingCalendar,
) -> list[OverdueItem]:
    dates = recurring_dates(item, today + dt.timedelta(days=400), cal)
    if not dates or dates[0] >= today:
        return []
    met = met_occurrences(dates, done_days)
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
