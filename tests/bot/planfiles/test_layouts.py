"""Real plans' layouts, in CSV and XLSX: header words in any order under a title block,
columns the bot does not use (kept, exported back, reported), Excel dates and Mmm-yy."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.planfiles.cells import date_cell_text, spell_month_years
from bot.planfiles.exporter import export_plan
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.read import read_plan
from store.models import Objective, Partnership, Rag

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
D = dt.date

# A real plan's shape: a title block and blank rows, then the header in its own order
# and words, with columns the bot has no field for.
TITLE_BLOCK: list[list[object]] = [
    ["Safer Essex Partnership: Community Safety Action Plan 2026/27"],
    [],
    ["Version 3", "", "Last reviewed by the board"],
    [],
]
HEADER = ["Priority", "Activity", "Lead officer", "Target date", "RAG", "Comments", "Budget"]
ROWS: list[list[object]] = [
    ["Tackle violence against women", "Run the campaign", "J Smith", "Mar-27", "Amber", "", "5k"],
    ["Reduce reoffending", "IOM review", "Probation", "30/06/2026", "G", "On track", ""],
]


def _csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _xlsx_bytes(rows: list[list[object]], formats: dict[str, str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(row)
    for where, number_format in (formats or {}).items():
        sheet[where].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plan(fmt: str) -> tuple[bytes, str]:
    rows = [*TITLE_BLOCK, HEADER, *ROWS]
    if fmt == "csv":
        return _csv_bytes(rows), "plan.csv"
    return _xlsx_bytes(rows), "plan.xlsx"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_title_block_above_a_header_in_real_plan_words(fmt: str) -> None:
    data, name = _plan(fmt)
    plan = read_plan(data, name)
    assert plan.title == (
        "Safer Essex Partnership: Community Safety Action Plan 2026/27 Version 3 "
        "Last reviewed by the board"
    )
    first, second = plan.rows
    assert (first.title, first.action, first.owners) == (
        "Tackle violence against women",
        "Run the campaign",
        ["J Smith"],
    )
    assert (first.timescale, first.status, first.source_line) == ("March 2027", "Amber", 6)
    assert (second.timescale, second.progress, second.status) == ("30/06/2026", "On track", "G")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_unknown_columns_are_kept_exported_back_and_reported(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    data, name = _plan(fmt)
    report = import_plan_bytes(session, partnership, data, name, now=NOW)
    assert report.plan_year == 2026 and "its title names 2026/27" in report.reason
    assert report.kept_columns == ["Budget"] and report.status_column == "RAG"
    text = "\n".join(report.lines())
    assert "kept with each objective and exported back: Budget" in text
    assert 'RAG read from the "RAG" column' in text
    stored = session.scalars(select(Objective).order_by(Objective.position)).all()
    assert [o.file_columns for o in stored] == [{"Budget": "5k", "RAG": "Amber"}, {"RAG": "G"}]
    assert [o.rag for o in stored] == [Rag.AMBER, Rag.GREEN]
    # Exported back: CSV and XLSX carry the columns after ours, JSON under "columns".
    exported = read_plan(export_plan(session, partnership, "csv"), "out.csv")
    assert exported.kept_columns == ["Budget"] and exported.status_column == "RAG"
    assert exported.rows[0].columns == {"Budget": "5k", "RAG": "Amber"}
    workbook = read_plan(export_plan(session, partnership, "xlsx", today=NOW.date()), "out.xlsx")
    assert workbook.rows[0].columns == {"Budget": "5k", "RAG": "Amber"}
    doc = json.loads(export_plan(session, partnership, "json"))
    assert doc["objectives"][0]["columns"] == {"Budget": "5k", "RAG": "Amber"}
    # Importing the export back changes nothing.
    again = import_plan_bytes(
        session, partnership, export_plan(session, partnership, "csv"), "out.csv", now=NOW
    )
    assert again.updated == [] and len(again.unchanged) == 2


def test_the_json_export_carries_kept_columns_into_another_import(
    session: Session, partnership: Partnership
) -> None:
    data, name = _plan("csv")
    import_plan_bytes(session, partnership, data, name, now=NOW)
    doc = json.loads(export_plan(session, partnership, "json"))
    plan = read_plan(json.dumps(doc).encode(), "plan.json")
    assert plan.kept_columns == ["RAG", "Budget"]
    assert plan.rows[0].columns == {"Budget": "5k", "RAG": "Amber"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_mar_27_is_march_2027_not_march_of_the_plan_year(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    rows: list[list[object]] = [
        ["Objective", "Action", "Deadline"],
        ["Hate crime", "Refresh the strategy", "Mar-27"],
        ["Prevent", "Review the Channel panel", "Sept-26 and Jan-2027"],
    ]
    data = _csv_bytes(rows) if fmt == "csv" else _xlsx_bytes(rows)
    report = import_plan_bytes(session, partnership, data, f"plan.{fmt}", now=NOW)
    assert report.plan_year == 2026
    hate = session.scalars(select(Objective).where(Objective.title == "Hate crime")).one()
    assert hate.timescale_text == "March 2027"
    assert [i.due_on for i in hate.schedule] == [D(2027, 3, 31)]
    assert not hate.needs_dating


# Excel date cells carry no zone: openpyxl reads and writes naive datetimes.
EXCEL_JUNE = dt.datetime(2027, 6, 30)  # noqa: DTZ001
EXCEL_MARCH = dt.datetime(2027, 3, 1)  # noqa: DTZ001
EXCEL_AFTERNOON = dt.datetime(2027, 3, 1, 14, 30)  # noqa: DTZ001


def test_excel_date_cells_are_dates_and_month_formats_are_months(
    session: Session, partnership: Partnership
) -> None:
    data = _xlsx_bytes(
        [
            ["Objective", "Action", "Completion date"],
            ["Hate crime", "Publish", EXCEL_JUNE],
            ["Prevent", "Report", EXCEL_MARCH],
            ["ASB", "Review", dt.date(2026, 12, 18)],
        ],
        {"C2": "dd/mm/yyyy", "C3": "mmm-yy", "C4": "d mmmm yyyy"},
    )
    plan = read_plan(data, "plan.xlsx")
    assert [r.timescale for r in plan.rows] == ["30 June 2027", "March 2027", "18 December 2026"]
    import_plan_bytes(session, partnership, data, "plan.xlsx", now=NOW)
    dues = {
        o.title: [i.due_on for i in o.schedule] for o in session.scalars(select(Objective)).all()
    }
    assert dues == {
        "Hate crime": [D(2027, 6, 30)],
        "Prevent": [D(2027, 3, 31)],
        "ASB": [D(2026, 12, 18)],
    }


def test_date_cell_and_mmm_yy_text_rules() -> None:
    assert date_cell_text(dt.date(2027, 3, 1), "mmm-yy") == "March 2027"
    assert date_cell_text(dt.date(2027, 3, 1), "mmmm yyyy") == "March 2027"
    assert date_cell_text(dt.date(2027, 3, 1), '"Due "dd/mm/yy') == "1 March 2027"
    assert date_cell_text(EXCEL_AFTERNOON) == "1 March 2027 14:30"
    assert spell_month_years("Mar-27") == "March 2027"
    assert spell_month_years("Jan-Mar 2027") == "Jan-Mar 2027"
    assert spell_month_years("review 12-Mar-27") == "review 12-Mar-27"
    assert spell_month_years("Q3 2025/26") == "Q3 2025/26"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_second_column_for_the_same_thing_is_kept_not_refused(fmt: str) -> None:
    rows: list[list[object]] = [
        ["Theme", "Objective", "Actions", "Lead agency", "Lead officer", "By when"],
        ["Safer streets", "Cut ASB", "Patrols", "Essex Police", "Sgt Jones", "Jan-27"],
    ]
    data = _csv_bytes(rows) if fmt == "csv" else _xlsx_bytes(rows)
    plan = read_plan(data, f"plan.{fmt}")
    (row,) = plan.rows
    assert (row.title, row.action, row.owners, row.timescale) == (
        "Cut ASB",
        "Patrols",
        ["Essex Police"],
        "January 2027",
    )
    assert row.columns == {"Theme": "Safer streets", "Lead officer": "Sgt Jones"}
    assert plan.kept_columns == ["Theme", "Lead officer"]
