"""One rule for when a schedule item falls due: the views, `/csp due`, the digest and
the reminders all reckon on the partnership's calendar, closure days included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.notices.reminder_sources import reminder_source
from bot.plan.reading import due_items, list_objectives
from bot.plan.schedule import next_occurrence, occurrences, partnership_calendar
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import Objective, ObjectiveStatus, Partnership, ScheduleItem, ScheduleKind

D = dt.date
LONDON = ZoneInfo("Europe/London")
# "Every March": due on the month's last working day. In 2027 that is Wed 31 March;
# with the office shut on 30 and 31 March, Easter Monday (29) and Good Friday (26)
# in the way, it is Thursday 25 March.
EVERY_MARCH = ScheduleItem(
    kind=ScheduleKind.RECURRING,
    due_on=D(2027, 3, 31),
    rrule="FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1",
    month_only=True,
    source_text="every March",
)
CLOSURES = ["2027-03-30", "2027-03-31"]


def test_a_month_only_rule_falls_on_the_last_working_day_of_the_calendar() -> None:
    closed = WorkingCalendar([D(2027, 3, 30), D(2027, 3, 31)])
    window = (D(2027, 1, 1), D(2029, 1, 1))
    assert occurrences(EVERY_MARCH, *window, default_calendar()) == [D(2027, 3, 31), D(2028, 3, 31)]
    assert occurrences(EVERY_MARCH, *window, closed) == [D(2027, 3, 25), D(2028, 3, 31)]
    # Rolled back before the window's start, an occurrence is not in the window.
    assert next_occurrence(EVERY_MARCH, D(2027, 3, 26), closed) == D(2028, 3, 31)


def test_a_dated_item_falls_due_once_until_done() -> None:
    item = ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=D(2027, 1, 29), source_text="Jan")
    cal = default_calendar()
    assert occurrences(item, D(2027, 1, 1), D(2027, 2, 1), cal) == [D(2027, 1, 29)]
    assert occurrences(item, D(2027, 1, 30), D(2027, 2, 1), cal) == []
    item.done_at = dt.datetime(2027, 1, 20, tzinfo=dt.UTC)
    assert occurrences(item, D(2027, 1, 1), D(2027, 2, 1), cal) == []


def _every_march(session: Session, partnership: Partnership) -> int:
    now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    partnership.settings = {**(partnership.settings or {}), "closure_dates": CLOSURES}
    objective = Objective(
        partnership_id=partnership.id,
        plan_year=partnership.plan_year,
        position=99,
        title="Annual return to the Home Office",
        action_text="Send the annual return.",
        timescale_text="every March",
        status=ObjectiveStatus.OPEN,
        created_at=now,
        updated_at=now,
    )
    objective.schedule.append(
        ScheduleItem(
            kind=EVERY_MARCH.kind,
            due_on=EVERY_MARCH.due_on,
            rrule=EVERY_MARCH.rrule,
            month_only=True,
            source_text=EVERY_MARCH.source_text,
        )
    )
    session.add(objective)
    session.flush()
    return objective.id


def test_views_and_reminders_honour_the_partnerships_closure_days(
    session: Session, partnership: Partnership
) -> None:
    oid = _every_march(session, partnership)
    assert partnership_calendar(partnership).is_working_day(D(2027, 3, 30)) is False
    # The plan list and `/csp due` say 25 March.
    summary = next(s for s in list_objectives(session, partnership, D(2027, 3, 1)) if s.id == oid)
    assert summary.next_date == D(2027, 3, 25)
    due = [i for i in due_items(session, partnership, D(2027, 3, 1), 30) if i.objective_id == oid]
    assert [i.due_on for i in due] == [D(2027, 3, 25)]
    # The reminders count 14 days back from the same day: Thursday 11 March.
    at = dt.datetime(2027, 3, 11, 9, 0, tzinfo=LONDON)
    sent = [d for d in reminder_source(session, partnership, at) if d.objective_id == oid]
    assert {d.payload["due_on"] for d in sent} == {"2027-03-25"}
    # And from the day after, every view calls it overdue since 25 March.
    late = [i for i in due_items(session, partnership, D(2027, 3, 26), 7) if i.objective_id == oid]
    assert [(i.due_on, i.overdue) for i in late] == [(D(2027, 3, 25), True)]
