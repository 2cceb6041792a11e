"""The plan's services: progress, what is due, meetings, snoozes, Mark done, local days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.errors import NotAllowed, NotFound, UserError
from bot.plan.done import snooze
from bot.plan.meetings import set_meeting, upcoming_meetings
from bot.plan.members import Actor
from bot.plan.owners import set_owner
from bot.plan.progress import log_progress
from bot.plan.reading import due_items, list_objectives, objective_detail
from bot.planfiles.seed import load_seed_if_empty
from bot.settings import Settings
from store.models import Partnership, Rag, Role
from tests.actions import first_action
from tests.conftest import NOW

D = dt.date
TODAY = D(2026, 11, 26)


def _id(session: Session, partnership: Partnership, title: str) -> int:
    return next(s.id for s in list_objectives(session, partnership, TODAY) if s.title == title)


def _in_the_plan_since(session: Session, partnership: Partnership, day: D) -> None:
    """As if the plan's schedule had been made on ``day`` (the seed is loaded at NOW)."""
    from bot.plan import readcache
    from store.models import Objective

    for objective in session.scalars(
        select(Objective).where(Objective.partnership_id == partnership.id)
    ):
        for item in objective.schedule:
            item.created_on = day
        readcache.touch(session, objective, NOW)
    session.flush()


def test_a_yearly_item_added_after_its_date_is_next_due_next_year(
    session: Session, seeded: Partnership
) -> None:
    # "31 March annually" loaded in November: nothing overdue on arrival.
    survey = _id(session, seeded, "Perceptions of crime survey")
    summary = next(s for s in list_objectives(session, seeded, TODAY) if s.id == survey)
    assert not summary.overdue and summary.next_date == D(2027, 3, 31)
    assert not [i for i in due_items(session, seeded, TODAY, 14) if i.objective_id == survey]


def test_progress_is_append_only_and_shows_newest_first(
    session: Session, seeded: Partnership
) -> None:
    actor = Actor("UOTHER", Role.MEMBER, "Sam Officer")
    dhr = _id(session, seeded, "Domestic Homicide Reviews")
    for i, rag in enumerate([Rag.GREEN, Rag.AMBER, Rag.RED, Rag.AMBER, Rag.GREEN, Rag.RED]):
        log_progress(
            session,
            seeded,
            actor,
            dhr,
            rag=rag,
            done=False,
            note=f"update {i}",
            now=NOW + dt.timedelta(minutes=i),
        )
    detail = objective_detail(session, seeded, dhr, TODAY)
    assert [p.note for p in detail.recent_progress] == [f"update {i}" for i in (5, 4, 3, 2, 1)]
    assert detail.summary.rag == "red" and detail.recent_progress[0].author == "Sam Officer"
    with pytest.raises(UserError):
        log_progress(session, seeded, actor, dhr, rag=None, done=False, note="  ", now=NOW)
    with pytest.raises(NotFound):
        objective_detail(session, seeded, 999_999, TODAY)


def test_due_lists_overdue_first_then_upcoming(session: Session, seeded: Partnership) -> None:
    _in_the_plan_since(session, seeded, D(2025, 4, 1))
    items = due_items(session, seeded, TODAY, 14)
    overdue = [i for i in items if i.overdue]
    upcoming = [i for i in items if not i.overdue]
    # Deadlines, milestones and recurring occurrences alike (the one overdue rule).
    assert [(i.title, i.due_on) for i in overdue] == [
        ("Child Sexual Exploitation", D(2026, 3, 31)),  # milestone "March 2026"
        ("Overview and Scrutiny Committee", D(2026, 3, 31)),
        ("PREVENT", D(2026, 3, 31)),
        ("Perceptions of crime survey", D(2026, 3, 31)),  # 31 March annually
        ("Partnership Plan", D(2026, 4, 30)),
        ("Strategic Assessment", D(2026, 4, 30)),
        ("PREVENT", D(2026, 5, 29)),
        ("Overview and Scrutiny Committee", D(2026, 10, 30)),
    ]
    assert items.index(overdue[-1]) < items.index(upcoming[0])
    assert {i.due_on for i in upcoming} == {D(2026, 12, 1)}


def test_meetings_start_undated_and_admins_set_them(session: Session, seeded: Partnership) -> None:
    meetings = upcoming_meetings(session, seeded, TODAY)
    assert [(m.body, m.month) for m in meetings[:2]] == [
        ("Maldon Responsible Authorities Group", D(2026, 12, 1)),
        ("One Chelmsford Board", D(2026, 12, 1)),
    ]
    assert all(m.date_to_be_set for m in meetings)
    admin = Actor("UADMIN", Role.ADMIN, None)
    with pytest.raises(NotAllowed):
        set_meeting(
            session,
            seeded,
            Actor("UX", Role.MEMBER, None),
            "one chelmsford",
            D(2026, 12, 8),
            now=NOW,
        )
    with pytest.raises(UserError):
        set_meeting(session, seeded, admin, "Parish council", D(2026, 12, 8), now=NOW)
    view = set_meeting(
        session,
        seeded,
        admin,
        "one chelmsford",
        D(2026, 12, 8),
        dt.time(10),
        "Civic Centre",
        now=NOW,
    )
    assert view.body == "One Chelmsford Board" and view.meeting_date == D(2026, 12, 8)
    moved = set_meeting(session, seeded, admin, "One Chelmsford Board", D(2027, 1, 12), now=NOW)
    assert moved.id == view.id and moved.meeting_date == D(2027, 1, 12)
    after = upcoming_meetings(session, seeded, TODAY)
    assert [m.body for m in after if m.month == D(2026, 12, 1)] == [
        "Maldon Responsible Authorities Group"
    ]


def test_snooze_is_for_owners_and_admins(session: Session, seeded: Partnership) -> None:
    dhr = _id(session, seeded, "Domestic Homicide Reviews")
    with pytest.raises(NotAllowed):
        snooze(
            session,
            seeded,
            Actor("UX", Role.MEMBER, None),
            dhr,
            NOW + dt.timedelta(days=7),
            now=NOW,
        )
    set_owner(session, seeded, Actor("UADMIN", Role.ADMIN, None), dhr, "UOWNER", now=NOW)
    snooze(
        session,
        seeded,
        Actor("UOWNER", Role.MEMBER, None),
        dhr,
        NOW + dt.timedelta(days=7),
        now=NOW,
    )


def test_log_progress_result_says_what_done_closed(session: Session, seeded: Partnership) -> None:
    from bot.plan.progress import log_progress_result

    admin = Actor("UADMIN", Role.ADMIN, None)
    overview = _id(session, seeded, "Overview and Scrutiny Committee")
    result = log_progress_result(
        session, seeded, admin, overview, rag=None, done=True, note="", now=NOW
    )
    assert result.closed_label == "March 2026 deadline (Maldon District Council)"
    assert not result.objective_done
    assert result.still_open[0] == "October 2026, Maldon District Council (overdue since 30 Oct)"
    dhr = _id(session, seeded, "Domestic Homicide Reviews")
    with pytest.raises(UserError, match="ongoing"):
        log_progress_result(session, seeded, admin, dhr, rag=None, done=True, note="", now=NOW)
    assert objective_detail(session, seeded, dhr, TODAY).recent_progress == ()


def _engine_overdue(session: Session, p: Partnership, now: dt.datetime) -> set[tuple[int, D]]:
    """(objective, due) the reminder engine treats as overdue at ``now``: its weekly
    overdue notices, and the on-the-day notice still live in the week after the day (each
    notice on its own, before the digest and the day-one summary stand in for some)."""
    from bot.notices.reminder_sources import reminder_plans

    today = now.astimezone(ZoneInfo(p.timezone)).date()
    found: set[tuple[int, D]] = set()
    for d in reminder_plans(session, p, now):
        due = d.payload.get("due_on")
        if d.objective_id is None or not isinstance(due, str):
            continue
        if d.kind == "overdue" or (d.kind == "deadline" and D.fromisoformat(due) < today):
            found.add((d.objective_id, D.fromisoformat(due)))
    return found


def _views_overdue(session: Session, p: Partnership, today: D) -> set[tuple[int, D]]:
    due = {(i.objective_id, i.due_on) for i in due_items(session, p, today, 14) if i.overdue}
    summaries = list_objectives(session, p, today)
    # The plan list agrees with `/csp due` on which objectives are overdue, and since when.
    assert {s.id for s in summaries if s.overdue} == {oid for oid, _ in due}
    for s in summaries:
        if s.overdue:
            assert s.overdue_since == min(d for oid, d in due if oid == s.id)
    return due


def test_views_and_overdue_notices_agree_through_the_year(
    session: Session, seeded: Partnership
) -> None:
    from bot.time.workdays import default_calendar

    cal = default_calendar()
    admin = Actor("UADMIN", Role.ADMIN, None)
    _in_the_plan_since(session, seeded, D(2025, 4, 1))
    survey = _id(session, seeded, "Perceptions of crime survey")
    prevent = _id(session, seeded, "PREVENT")
    day = D(2026, 4, 1)
    checked = 0
    seen_survey = False
    while day < D(2027, 4, 1):
        day = cal.on_or_after(day)  # notices go out in working hours on working days
        now = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("Europe/London"))
        if day == D(2026, 9, 1):
            # Late returns: the survey's 2026 occurrence and PREVENT's March milestone.
            log_progress(session, seeded, admin, survey, rag=None, done=True, note="", now=now)
            log_progress(session, seeded, admin, prevent, rag=None, done=True, note="", now=now)
        views = _views_overdue(session, seeded, day)
        assert views == _engine_overdue(session, seeded, now), day
        seen_survey = seen_survey or (survey, D(2026, 3, 31)) in views
        checked += 1
        day += dt.timedelta(days=6)
    assert checked > 50 and seen_survey


def test_survey_shows_overdue_since_and_next_date_until_done(
    session: Session, seeded: Partnership
) -> None:
    _in_the_plan_since(session, seeded, D(2025, 4, 1))
    survey = _id(session, seeded, "Perceptions of crime survey")
    summary = next(s for s in list_objectives(session, seeded, TODAY) if s.id == survey)
    assert summary.overdue and summary.overdue_since == D(2026, 3, 31)
    assert summary.next_date == D(2027, 3, 31)
    # The 2026 occurrence stops being overdue when 2027's first reminder (d14) begins.
    march = next(s for s in list_objectives(session, seeded, D(2027, 3, 17)) if s.id == survey)
    assert not march.overdue
    admin = Actor("UADMIN", Role.ADMIN, None)
    log_progress(session, seeded, admin, survey, rag=None, done=True, note="Ran it", now=NOW)
    after = next(s for s in list_objectives(session, seeded, TODAY) if s.id == survey)
    assert not after.overdue and after.next_date == D(2027, 3, 31)
    # One "done" meets one occurrence: 2027's is still to do.
    assert not any(
        i.objective_id == survey
        for i in due_items(session, seeded, D(2027, 4, 1), 1)
        if i.due_on == D(2026, 3, 31)
    )
    assert any(
        i.objective_id == survey and i.overdue and i.due_on == D(2027, 3, 31)
        for i in due_items(session, seeded, D(2027, 4, 1), 1)
    )


def test_snoozed_items_stay_overdue_in_the_views(session: Session, seeded: Partnership) -> None:
    from bot.notices.reminder_sources import reminder_source

    admin = Actor("UADMIN", Role.ADMIN, None)
    prevent = _id(session, seeded, "PREVENT")
    until = NOW + dt.timedelta(days=7)
    snooze(session, seeded, admin, prevent, until, now=NOW)
    items = [i for i in due_items(session, seeded, TODAY, 14) if i.objective_id == prevent]
    assert [(i.due_on, i.snoozed_until) for i in items] == [
        (D(2026, 3, 31), until),
        (D(2026, 5, 29), until),
    ]
    summary = next(s for s in list_objectives(session, seeded, TODAY) if s.id == prevent)
    assert summary.overdue and summary.overdue_since == D(2026, 3, 31)
    assert not [d for d in reminder_source(session, seeded, NOW) if d.objective_id == prevent]


def test_done_keeps_an_objective_with_meetings_open(session: Session, seeded: Partnership) -> None:
    from bot.plan.progress import log_progress_result
    from bot.plan.reading import get_objective
    from store.models import ObjectiveStatus, ScheduleItem, ScheduleKind

    admin = Actor("UADMIN", Role.ADMIN, None)
    oid = _id(session, seeded, "Strategic management of partnership functions")
    # Its only schedule is its quarterly meetings: nothing dated to close.
    with pytest.raises(UserError, match="meetings"):
        log_progress_result(session, seeded, admin, oid, rag=None, done=True, note="", now=NOW)
    assert get_objective(session, seeded, oid).status == ObjectiveStatus.OPEN
    # With a dated item as well, done closes that item and the meetings keep it open.
    objective = get_objective(session, seeded, oid)
    first_action(objective).schedule.append(
        ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=D(2026, 11, 30), source_text="Nov")
    )
    session.flush()
    result = log_progress_result(
        session, seeded, admin, oid, rag=None, done=True, note="Budget approved", now=NOW
    )
    assert result.closed_label == "30 November 2026 deadline"
    assert not result.objective_done
    assert get_objective(session, seeded, oid).status == ObjectiveStatus.OPEN


# ---------------------------------------------------------------- reminder Mark done


def test_mark_done_with_an_item_closes_exactly_that_item(
    session: Session, seeded: Partnership
) -> None:
    from bot.plan.done import mark_done, mark_done_result
    from bot.plan.reading import get_objective
    from store.models import ScheduleItem, ScheduleKind

    admin = Actor("UADMIN", Role.ADMIN, None)
    oid = _id(session, seeded, "Strategic management of partnership functions")
    objective = get_objective(session, seeded, oid)
    soon = ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=D(2026, 11, 30), source_text="Nov")
    later = ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=D(2027, 2, 26), source_text="Feb")
    first_action(objective).schedule.extend([soon, later])
    session.flush()
    # The February reminder's button closes February, not the earlier open one.
    first = mark_done_result(session, seeded, admin, oid, now=NOW, item_id=later.id)
    assert first.closed_label == "26 February 2027 deadline" and not first.already_done
    assert later.done_at == NOW and soon.done_at is None
    # Clicked again a day later: nothing closes, and it says who and when.
    again = mark_done_result(
        session,
        seeded,
        Actor("UOWNER2", Role.ADMIN, None),
        oid,
        now=NOW + dt.timedelta(days=1),
        item_id=later.id,
    )
    assert again.already_done and again.closed_label is None
    assert again.already_text == "already marked done by <@UADMIN> on 26 Nov"
    assert soon.done_at is None
    # The typed command keeps closing the earliest open dated item.
    mark_done(session, seeded, admin, oid, now=NOW)
    assert soon.done_at == NOW
    with pytest.raises(UserError, match="no longer in the plan"):
        mark_done_result(session, seeded, admin, oid, now=NOW, item_id=999_999)


# ---------------------------------------------------------------- local dates


def test_local_date_is_the_partnership_day() -> None:
    from bot.plan.years import local_date

    late_evening = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 on 11 June in BST
    assert local_date(late_evening, "Europe/London") == D(2026, 6, 11)
    assert local_date(late_evening, ZoneInfo("Europe/London")) == D(2026, 6, 11)
    assert local_date(late_evening.replace(tzinfo=None), "Europe/London") == D(2026, 6, 11)
    winter = dt.datetime(2026, 12, 10, 23, 30, tzinfo=dt.UTC)
    assert local_date(winter, "Europe/London") == D(2026, 12, 10)


def test_a_snooze_ending_late_on_a_summer_evening_covers_the_next_day(
    session: Session, seeded: Partnership
) -> None:
    from bot.plan.models import ProgressFacts
    from bot.plan.reading import get_objective, overdue_due_items
    from bot.plan.schedule import reminder_policy

    prevent = get_objective(session, seeded, _id(session, seeded, "PREVENT"))
    until = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 on 11 June, London
    facts = ProgressFacts({}, {prevent.id: until}, "Europe/London")
    items = overdue_due_items(prevent, D(2026, 6, 11), facts, reminder_policy(seeded))
    assert items and all(i.snoozed_until == until for i in items)


def test_two_clicks_on_mark_done_close_the_item_once(
    plan_ctx: AppContext, plan_settings: Settings
) -> None:
    from bot.plan.done import mark_done_result
    from store.db import session_scope
    from store.models import ProgressEntry, ScheduleItem

    with session_scope(plan_ctx.sessions) as s:
        load_seed_if_empty(s, plan_settings, now=NOW)
        partnership = s.scalars(select(Partnership)).one()
        oid = _id(s, partnership, "Strategic Assessment")
        item_id = s.scalars(select(ScheduleItem.id).where(ScheduleItem.objective_id == oid)).one()
    admin = Actor("UADMIN", Role.ADMIN, None)
    # Both clicks read the item open before either writes.
    first, second = plan_ctx.sessions(), plan_ctx.sessions()
    try:
        p1 = first.scalars(select(Partnership)).one()
        p2 = second.scalars(select(Partnership)).one()
        assert first.get(ScheduleItem, item_id).done_at is None  # type: ignore[union-attr]
        assert second.get(ScheduleItem, item_id).done_at is None  # type: ignore[union-attr]
        one = mark_done_result(first, p1, admin, oid, now=NOW, item_id=item_id)
        first.commit()
        two = mark_done_result(second, p2, admin, oid, now=NOW, item_id=item_id)
        second.commit()
    finally:
        first.close()
        second.close()
    assert one.already_done_by is None
    assert two.already_done_by is not None
    with session_scope(plan_ctx.sessions) as s:
        done = s.scalars(select(ProgressEntry).where(ProgressEntry.done.is_(True))).all()
        assert len(done) == 1
