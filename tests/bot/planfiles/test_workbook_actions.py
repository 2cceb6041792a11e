"""The workbook of a plan whose objectives have several actions: a Plan row per action with
its own lead, dates, RAG and progress, Schedule and Progress rows naming their action, and
importing it back changing nothing."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from bot.planfiles.exporter import export_plan
from bot.planfiles.importer import import_plan_bytes
from store.models import Partnership
from tests.bot.plan.exported import export_plan_fixture
from tests.several_actions import NOW, objectives, plant_several_actions

TODAY = NOW.date()
NAMES = {"U0SMITH": "Jo Smith", "U0JONES": "Al Jones"}


def _sheet(data: bytes, name: str) -> Worksheet:
    sheet = openpyxl.load_workbook(io.BytesIO(data))[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def _rows(sheet: Worksheet) -> list[dict[str, object]]:
    """Each row by header; a header repeated (the plan file's own RAG column, kept after
    ours) keeps its first column."""
    headers = [str(c.value) for c in sheet[2]]
    return [
        {h: row[headers.index(h)] for h in headers}
        for row in sheet.iter_rows(min_row=3, values_only=True)
    ]


def _workbook(session: Session, partnership: Partnership) -> bytes:
    plant_several_actions(session, partnership)
    return export_plan(session, partnership, "xlsx", today=TODAY, names=NAMES)


def _day(value: object) -> dt.date:
    assert isinstance(value, dt.datetime)
    return value.date()


def test_each_action_has_its_own_plan_row_with_its_lead_dates_rag_and_progress(
    session: Session, partnership: Partnership
) -> None:
    rows = _rows(_sheet(_workbook(session, partnership), "Plan"))
    assert [(r["Objective"], r["Action"]) for r in rows] == [
        ("PREVENT", "Train frontline staff"),
        ("PREVENT", "Deliver WRAP workshops to schools"),
        ("Hate crime", "Publish the reporting guide."),
        ("Hate crime", "Run two awareness weeks"),
        ("Strategic Assessment", "Produce the assessment"),
    ]
    train, wrap, guide, weeks, assessment = rows
    assert (train["Lead (as written)"], train["Owners"]) == ("<@U0SMITH>", "Jo Smith")
    assert (wrap["Lead (as written)"], wrap["Owners"]) == ("<@U0JONES>", "Al Jones")
    assert (train["Timescale (as written)"], wrap["Timescale (as written)"]) == (
        "December 2026",
        "March 2027",
    )
    # Smith's action was marked done; Jones's was logged red and is next due in March.
    assert (train["Status"], train["Latest note"]) == ("Done", "Trained")
    assert (wrap["Status"], wrap["RAG"], wrap["Latest note"]) == (
        "Open",
        "Red",
        "Workshops cancelled",
    )
    assert _day(wrap["Next due"]) == dt.date(2027, 3, 31)
    assert _day(wrap["Last update"]) == TODAY
    assert _day(guide["Next due"]) == dt.date(2027, 1, 29)  # January's last working day
    assert guide["Owners"] == "U0KHAN" and weeks["Owners"] is None
    assert weeks["RAG"] == "Red" and guide["RAG"] is None
    # A one-action objective's row is as it always was.
    assert (assessment["Status"], assessment["Timescale (as written)"]) == (
        "Overdue",
        "April 2026",
    )


def test_schedule_and_progress_rows_name_their_action(
    session: Session, partnership: Partnership
) -> None:
    data = _workbook(session, partnership)
    schedule = _sheet(data, "Schedule")
    assert [c.value for c in schedule[2]] == [
        "Due",
        "Objective",
        "Action",
        "What",
        "Kind",
        "Body",
        "State",
    ]
    found = {(r["Objective"], r["Action"], _day(r["Due"]), r["State"]) for r in _rows(schedule)}
    assert ("PREVENT", "1. Train frontline staff", dt.date(2026, 12, 31), "done") in found
    assert ("PREVENT", "2. Deliver WRAP workshops to schools", dt.date(2027, 3, 31), "due") in (
        found
    )
    assert ("Strategic Assessment", None, dt.date(2026, 4, 30), "overdue") in found
    progress = _rows(_sheet(data, "Progress"))
    assert [(r["Objective"], r["Action"], r["Note"]) for r in progress] == [
        ("PREVENT", "2. Deliver WRAP workshops to schools", "Workshops cancelled"),
        ("PREVENT", "1. Train frontline staff", "Trained"),
    ]


def test_a_plan_of_one_action_objectives_keeps_todays_schedule_and_progress_columns(
    session: Session, partnership: Partnership
) -> None:
    export_plan_fixture(session, partnership)
    data = export_plan(session, partnership, "xlsx", today=TODAY, names={})
    assert [c.value for c in _sheet(data, "Schedule")[2]] == [
        "Due",
        "Objective",
        "What",
        "Kind",
        "Body",
        "State",
    ]
    assert "Action" not in [c.value for c in _sheet(data, "Progress")[2]]


def test_importing_the_workbook_back_keeps_every_action(
    session: Session, partnership: Partnership
) -> None:
    data = _workbook(session, partnership)
    json_before = export_plan(session, partnership, "json")
    report = import_plan_bytes(session, partnership, data, "plan.xlsx", now=NOW)
    assert report.lines()[0].endswith("0 added, 0 updated, 3 unchanged."), report.lines()
    assert export_plan(session, partnership, "json") == json_before
    prevent = objectives(session)["PREVENT"]
    assert [(a.position, a.text) for a in prevent.actions] == [
        (1, "Train frontline staff"),
        (2, "Deliver WRAP workshops to schools"),
    ]
