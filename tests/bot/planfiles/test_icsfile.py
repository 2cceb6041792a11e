"""The calendar file, read with icalendar and with vobject (an independent parser):
all-day deadlines, timed meetings across the clock changes, the zone, UIDs, status."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy.orm import Session

from bot.plan.feed import build_feed
from bot.planfiles.icsfile import write_ics
from bot.planfiles.importer import import_plan_bytes
from store.models import Partnership
from tests.bot.plan.exported import export_plan_fixture, objective
from tests.conftest import NOW

LONDON = ZoneInfo("Europe/London")
TODAY = NOW.date()


@pytest.fixture
def ics(session: Session, partnership: Partnership) -> bytes:
    export_plan_fixture(session, partnership)
    return write_ics(build_feed(session, partnership, TODAY), now=NOW)


def _events(data: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def _by_summary(data: bytes, summary: str) -> list[Any]:
    return [e for e in _events(data) if str(e["SUMMARY"]) == summary]


def test_the_calendar_names_the_plan_year_and_carries_its_zone(ics: bytes) -> None:
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["X-WR-CALNAME"]).endswith("plan 2026/27")
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/London"
    offsets = {(sub.name, str(sub["DTSTART"].dt)[:10]) for sub in zone.subcomponents}
    assert ("STANDARD", "2026-10-25") in offsets and ("DAYLIGHT", "2027-03-28") in offsets


def test_deadlines_are_all_day_events_on_their_due_date(ics: bytes) -> None:
    (sa,) = _by_summary(ics, "Due: Strategic Assessment")
    assert sa["DTSTART"].dt == dt.date(2026, 4, 30)
    assert sa["DTEND"].dt == dt.date(2026, 5, 1)
    assert str(sa["STATUS"]) == "CONFIRMED"
    assert "/csp show Strategic Assessment" in str(sa["DESCRIPTION"])
    survey = _by_summary(ics, "Due: Perceptions of crime survey")
    assert dt.date(2027, 3, 31) in [e["DTSTART"].dt for e in survey]


def test_waived_and_done_items_are_marked(
    session: Session, partnership: Partnership, ics: bytes
) -> None:
    (waived,) = _by_summary(ics, "Waived: Partnership Plan")
    assert str(waived["STATUS"]) == "CANCELLED"
    objective(session, "Strategic Assessment").schedule[0].done_at = NOW
    session.flush()
    again = write_ics(build_feed(session, partnership, TODAY), now=NOW)
    (done,) = _by_summary(again, "Done: Strategic Assessment")
    assert str(done["STATUS"]) == "CONFIRMED" and "Done" in str(done["CATEGORIES"].cats)
    assert done["UID"] == _by_summary(ics, "Due: Strategic Assessment")[0]["UID"]


def test_meetings_are_timed_in_london_across_both_clock_changes(ics: bytes) -> None:
    meetings = sorted(
        (e for e in _events(ics) if str(e["SUMMARY"]).endswith(" meeting")),
        key=lambda e: e["DTSTART"].dt,
    )
    starts = [e["DTSTART"].dt for e in meetings]
    assert all(s.tzinfo is not None for s in starts)
    # 10:00 in London: BST before 25 October, GMT until 28 March, BST again after.
    assert [s.astimezone(dt.UTC) for s in starts] == [
        dt.datetime(2026, 9, 15, 9, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 8, 10, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 25, 10, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 30, 13, 30, tzinfo=dt.UTC),
    ]
    assert [str(e["LOCATION"]) for e in meetings] == ["Council Chamber"] * 3 + ["Civic Centre"]
    assert all(e["DTEND"].dt - e["DTSTART"].dt == dt.timedelta(hours=2) for e in meetings)
    assert b"DTSTART;TZID=Europe/London:20261208T100000" in ics


def test_a_second_parser_reads_the_same_times(ics: bytes) -> None:
    calendar = vobject.readOne(ics.decode("utf-8"))
    events = calendar.contents["vevent"]
    timed = sorted(
        (e for e in events if isinstance(e.dtstart.value, dt.datetime)),
        key=lambda e: e.dtstart.value,
    )
    # vobject builds its own zone from the file's VTIMEZONE, not from zoneinfo.
    assert [e.dtstart.value.astimezone(dt.UTC).hour for e in timed] == [9, 10, 10, 13]
    assert [e.dtstart.value.utcoffset() for e in timed] == [
        dt.timedelta(hours=1),
        dt.timedelta(0),
        dt.timedelta(0),
        dt.timedelta(hours=1),
    ]
    all_day = [e for e in events if not isinstance(e.dtstart.value, dt.datetime)]
    assert all_day and all(isinstance(e.dtstart.value, dt.date) for e in all_day)
    uids = [e.uid.value for e in events]
    assert len(uids) == len(set(uids))


def test_uids_are_stable_so_a_reimport_updates_instead_of_duplicating(
    session: Session, partnership: Partnership, ics: bytes
) -> None:
    before = {str(e["UID"]): str(e["SUMMARY"]) for e in _events(ics)}
    from bot.planfiles.exporter import export_plan

    workbook = export_plan(session, partnership, "xlsx", today=TODAY, names={})
    import_plan_bytes(session, partnership, workbook, "plan.xlsx", now=NOW)
    later = write_ics(build_feed(session, partnership, TODAY), now=NOW + dt.timedelta(hours=1))
    after = {str(e["UID"]): str(e["SUMMARY"]) for e in _events(later)}
    assert after == before
    # A moved meeting keeps its UID: subscribers see it move.
    from bot.plan.meetings import set_meeting
    from tests.bot.plan.exported import ADMIN, RAG_BODY

    moved_uid = next(u for u, s in before.items() if s.startswith(RAG_BODY))
    set_meeting(session, partnership, ADMIN, RAG_BODY, dt.date(2026, 9, 16), dt.time(11), now=NOW)
    session.flush()
    moved = write_ics(build_feed(session, partnership, TODAY), now=NOW)
    event = next(e for e in _events(moved) if str(e["UID"]) == moved_uid)
    assert event["DTSTART"].dt == dt.datetime(2026, 9, 16, 11, tzinfo=LONDON)


def test_a_meeting_with_a_date_but_no_time_is_an_all_day_event(
    session: Session, partnership: Partnership
) -> None:
    from bot.plan.meetings import set_meeting
    from tests.bot.plan.exported import ADMIN, OCB

    export_plan_fixture(session, partnership)
    set_meeting(
        session, partnership, ADMIN, OCB, dt.date(2026, 12, 10), None, "Civic Centre", now=NOW
    )
    session.flush()
    data = write_ics(build_feed(session, partnership, TODAY), now=NOW)
    (meeting,) = [
        e for e in _by_summary(data, f"{OCB} meeting") if e["DTSTART"].dt == dt.date(2026, 12, 10)
    ]
    assert str(meeting["LOCATION"]) == "Civic Centre"
    assert "/csp show Strategic management" in str(meeting["DESCRIPTION"])
