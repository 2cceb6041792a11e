"""The workbook for people, opened with openpyxl: sheets, cell types, fills, filters, print
set-up, and importing it back changing nothing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from bot.planfiles.exporter import export_plan
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.read import read_plan
from store.models import Partnership
from tests.bot.plan.exported import export_plan_fixture
from tests.conftest import NOW

TODAY = NOW.date()
LONDON = ZoneInfo("Europe/London")


def wall(*parts: int) -> dt.datetime:
    """A London wall-clock time as Excel holds it (no zone)."""
    return dt.datetime(*parts, tzinfo=LONDON).replace(tzinfo=None)


NAMES = {"U0SAM": "Sam Officer"}


@pytest.fixture
def workbook_bytes(session: Session, partnership: Partnership) -> bytes:
    export_plan_fixture(session, partnership)
    return export_plan(session, partnership, "xlsx", today=TODAY, names=NAMES)


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _sheet(data: bytes, name: str) -> Worksheet:
    sheet = _open(data)[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def _rows_by_first_cell(sheet: Worksheet) -> dict[object, tuple[object, ...]]:
    return {row[0].value: tuple(c.value for c in row) for row in sheet.iter_rows(min_row=3)}


def test_the_workbook_has_four_sheets_titled_with_the_plan_year(workbook_bytes: bytes) -> None:
    book = _open(workbook_bytes)
    assert book.sheetnames == ["Plan", "Schedule", "Meetings", "Progress"]
    plan = book["Plan"]
    assert plan["A1"].value == "Maldon Community Safety Partnership: plan 2026/27"
    assert book["Schedule"]["A1"].value.endswith("plan 2026/27: schedule")


def test_every_sheet_has_a_bold_frozen_filtered_header_and_prints_landscape(
    workbook_bytes: bytes,
) -> None:
    for sheet in _open(workbook_bytes).worksheets:
        assert isinstance(sheet, Worksheet)
        header = sheet[2]
        assert all(cell.font.bold for cell in header), sheet.title
        assert sheet.freeze_panes == "A3"
        assert (
            sheet.auto_filter.ref
            == f"A2:{sheet.cell(2, sheet.max_column).column_letter}{sheet.max_row}"
        )
        assert sheet.print_title_rows == "$2:$2"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        widths = [sheet.column_dimensions[c.column_letter].width for c in header]
        assert all(6 <= w <= 60 for w in widths), (sheet.title, widths)


def test_plan_sheet_is_one_row_per_action_with_dates_names_and_rag(workbook_bytes: bytes) -> None:
    plan = _sheet(workbook_bytes, "Plan")
    headers = [c.value for c in plan[2]]
    assert headers[:6] == [
        "Objective",
        "Action",
        "Lead (as written)",
        "Owners",
        "Timescale (as written)",
        "Next due",
    ]
    assert plan.max_row == 2 + 13
    rows = {row[0].value: row for row in plan.iter_rows(min_row=3)}
    sa = rows["Strategic Assessment"]
    col = {name: i for i, name in enumerate(headers)}
    assert sa[col["Lead (as written)"]].value == "<@U0SAM>; <@U0NONAME>"
    # A known display name, and the id where Slack gave none.
    assert sa[col["Owners"]].value == "Sam Officer; U0NONAME"
    assert sa[col["Timescale (as written)"]].value == "April 2026"
    assert sa[col["Status"]].value == "Overdue"
    rag = sa[col["RAG"]]
    assert rag.value == "Red" and rag.fill.fgColor.rgb == "00C00000"
    last = sa[col["Last update"]]
    assert last.is_date and last.value.date() == dt.date(2026, 11, 27)
    assert sa[col["Latest note"]].value == "Late data"
    # Quarterly meetings: the next one (December) as a real date cell.
    quarterly = rows["Strategic management of partnership functions"][col["Next due"]]
    assert quarterly.is_date and quarterly.value.date() == dt.date(2026, 12, 1)
    assert quarterly.number_format == "mmmm yyyy"  # known only to the month
    survey = rows["Perceptions of crime survey"][col["Next due"]]
    assert survey.is_date and survey.value.date() == dt.date(2027, 3, 31)
    assert survey.number_format == "d mmm yyyy"
    assert rows["Partnership Plan"][col["Status"]].value == "Waived"
    assert rows["Partnership Plan"][col["RAG"]].fill.fgColor.rgb in (None, "00000000")


def test_schedule_sheet_lists_every_dated_item_as_date_cells(workbook_bytes: bytes) -> None:
    schedule = _sheet(workbook_bytes, "Schedule")
    rows = list(schedule.iter_rows(min_row=3))
    assert rows and all(row[0].is_date for row in rows)
    dates = [row[0].value for row in rows]
    assert dates == sorted(dates)
    found = {(row[1].value, row[0].value.date(), row[5].value) for row in rows}
    assert ("Strategic Assessment", dt.date(2026, 4, 30), "overdue") in found
    assert ("Partnership Plan", dt.date(2026, 4, 30), "cancelled") in found
    assert ("Perceptions of crime survey", dt.date(2027, 3, 31), "due") in found
    meeting = next(r for r in rows if r[3].value == "meeting")
    assert meeting[0].value.date() == dt.date(2026, 9, 15)


def test_meetings_sheet_has_date_time_cells_and_places(workbook_bytes: bytes) -> None:
    meetings = _sheet(workbook_bytes, "Meetings")
    timed = [r for r in meetings.iter_rows(min_row=3) if r[2].value]
    assert [(r[1].value, r[2].value) for r in timed] == [
        (wall(2026, 9, 15, 10), "Council Chamber"),
        (wall(2026, 12, 8, 10), "Council Chamber"),
        (wall(2027, 3, 25, 10), "Council Chamber"),
        (wall(2027, 3, 30, 14, 30), "Civic Centre"),
    ]
    assert all(r[1].is_date and r[1].number_format == "d mmm yyyy hh:mm" for r in timed)
    undated = [r for r in meetings.iter_rows(min_row=3) if r[4].value == "date to be set"]
    assert undated and all(r[1].number_format == "mmmm yyyy" for r in undated)


def test_progress_sheet_is_the_full_history_with_date_cells(workbook_bytes: bytes) -> None:
    progress = _sheet(workbook_bytes, "Progress")
    rows = list(progress.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[3], r[5]) for r in rows] == [
        (wall(2026, 11, 26, 10), "Strategic Assessment", "Amber", "Draft out"),
        (wall(2026, 11, 27, 10), "Strategic Assessment", "Red", "Late data"),
    ]
    first = progress["A3"]
    assert first.is_date and first.number_format == "d mmm yyyy hh:mm"
    assert progress["D3"].fill.fgColor.rgb == "00FFC000"  # amber


def test_importing_the_workbook_back_changes_nothing(
    session: Session, partnership: Partnership, workbook_bytes: bytes
) -> None:
    json_before = export_plan(session, partnership, "json")
    parsed = read_plan(workbook_bytes, "plan.xlsx")
    assert len(parsed.rows) == 13
    first = parsed.rows[0]
    assert (first.title, first.timescale, first.owners) == (
        "Strategic Assessment",
        "April 2026",
        ["<@U0SAM>", "<@U0NONAME>"],
    )
    report = import_plan_bytes(session, partnership, workbook_bytes, "plan.xlsx", now=NOW)
    assert (report.created, report.updated) == ([], [])
    assert len(report.unchanged) == 13
    assert export_plan(session, partnership, "json") == json_before
    again = export_plan(session, partnership, "xlsx", today=TODAY, names=NAMES)
    assert _rows_by_first_cell(_sheet(again, "Plan")) == _rows_by_first_cell(
        _sheet(workbook_bytes, "Plan")
    )


def test_an_edited_timescale_in_the_workbook_is_imported(
    session: Session, partnership: Partnership, workbook_bytes: bytes
) -> None:
    book = _open(workbook_bytes)
    plan = book["Plan"]
    assert plan["A3"].value == "Strategic Assessment"
    plan["E3"] = "May 2026"
    plan["J3"] = "a note typed here is not a progress update"
    book.create_sheet("My notes")["A1"] = "Objective"  # a sheet a person added
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_plan_bytes(session, partnership, buffer.getvalue(), "plan.xlsx", now=NOW)
    assert report.updated == ["Strategic Assessment"]


def test_a_workbook_headed_otherwise_is_read_as_any_plan_table() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Plan"
    sheet.append(["Objective", "Outcome/Action", "Timescale"])
    sheet.append(["Strategic Assessment", "Produce it", "April 2026"])
    buffer = io.BytesIO()
    book.save(buffer)
    (row,) = read_plan(buffer.getvalue(), "plan.xlsx").rows
    assert (row.title, row.action, row.timescale) == (
        "Strategic Assessment",
        "Produce it",
        "April 2026",
    )


def test_formula_like_text_stays_text(session: Session, partnership: Partnership) -> None:
    export_plan_fixture(session, partnership)
    from tests.bot.plan.exported import objective

    objective(session, "PREVENT").action_text = "=HYPERLINK(1)"
    session.flush()
    plan = _sheet(export_plan(session, partnership, "xlsx", today=TODAY, names={}), "Plan")
    cell = next(row[1] for row in plan.iter_rows(min_row=3) if row[0].value == "PREVENT")
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


def test_the_workbook_needs_todays_date(session: Session, partnership: Partnership) -> None:
    with pytest.raises(ValueError, match="today"):
        export_plan(session, partnership, "xlsx")
