"""One rule for when a schedule item falls due: the views, `/csp due`, the digest and
the reminders all reckon on the partnership's calendar, closure days included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.notices.reminder_sources import reminder_source
from bot.plan.reading import due_items, list_objectives
from bot.plan.schedule import (
    next_occurrence,
    occurrences,
    overdue_items,
    partnership_calendar,
)
from bot.time.workdays import WorkingCalendar, default_calendar
from store.models import Objective, ObjectiveStatus, Partnership, ScheduleItem, ScheduleKind
from tests.actions import first_action

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
    first_action(objective).schedule.append(
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


# ------------------------------------------------------- nothing is overdue on arrival

QUARTERLY = dict(
    kind=ScheduleKind.RECURRING,
    due_on=D(2026, 3, 1),
    rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1",
    month_only=True,
    source_text="quarterly",
)


def test_a_recurring_item_has_no_occurrence_before_the_day_it_was_made() -> None:
    cal = default_calendar()
    made_in_december = ScheduleItem(**QUARTERLY, created_on=D(2026, 12, 1))
    assert occurrences(made_in_december, D(2026, 1, 1), D(2027, 7, 1), cal) == [
        D(2026, 12, 31),
        D(2027, 3, 31),
        D(2027, 6, 30),
    ]
    assert next_occurrence(made_in_december, D(2026, 4, 1), cal) == D(2026, 12, 31)
    # Made on the day of an occurrence: that day counts (due today, not overdue).
    made_on_the_day = ScheduleItem(**QUARTERLY, created_on=D(2026, 9, 30))
    assert next_occurrence(made_on_the_day, D(2026, 4, 1), cal) == D(2026, 9, 30)
    # An item from before this rule (no day recorded) keeps every occurrence.
    old = ScheduleItem(**QUARTERLY)
    assert occurrences(old, D(2026, 1, 1), D(2026, 7, 1), cal) == [D(2026, 3, 31), D(2026, 6, 30)]


def test_31_march_annually_made_after_31_march_is_next_due_next_31_march() -> None:
    cal = default_calendar()
    survey = ScheduleItem(
        kind=ScheduleKind.RECURRING,
        due_on=D(2026, 3, 31),
        rrule="FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31",
        month_only=False,
        source_text="31 March annually",
        created_on=D(2026, 4, 14),
    )
    assert next_occurrence(survey, D(2026, 1, 1), cal) == D(2027, 3, 31)
    assert overdue_items(_open_with(survey), D(2026, 12, 1)) == []


def _open_with(item: ScheduleItem) -> Objective:
    objective = Objective(title="Survey", status=ObjectiveStatus.OPEN)
    first_action(objective).schedule.append(item)
    return objective


def test_a_quarterly_item_imported_in_december_is_due_at_the_quarters_end_everywhere(
    session: Session, partnership: Partnership
) -> None:
    from bot.planfiles.importer import import_plan_bytes

    now = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
    data = b"Objective,Action,Timescale\nPerformance report,Report to the board,Quarterly\n"
    import_plan_bytes(session, partnership, data, "plan.csv", now=now)
    today = D(2026, 12, 2)
    summary = next(s for s in list_objectives(session, partnership, today))
    # Not "overdue since 30 September": next due at the end of the current quarter.
    assert not summary.overdue and summary.overdue_since is None
    assert summary.next_date == D(2026, 12, 31)
    due = due_items(session, partnership, today, 30)
    assert [(i.due_on, i.overdue) for i in due] == [(D(2026, 12, 31), False)]
    at = dt.datetime(2026, 12, 2, 9, 0, tzinfo=LONDON)
    assert not [d for d in reminder_source(session, partnership, at) if d.kind == "overdue"]
