"""Excel plan files: title rows, cell types, damaged or old workbooks, formula-like text."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from bot.planfiles.read import read_plan
from bot.planfiles.xlsxfile import write_plan_xlsx
from tests.bot.planfiles.plans import problems_of


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_empty_xlsx_says_so() -> None:
    workbook = openpyxl.Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "empty" in str(problems_of(buffer.getvalue(), "plan.xlsx"))
    assert "the file is empty" in str(problems_of(b"", "plan.xlsx"))


def test_xlsx_header_below_title_rows_and_cell_types() -> None:
    data = _workbook(
        [
            ["Maldon CSP"],
            ["Statutory functions"],
            [],
            ["Objective", "Outcome/Action", "Timescale", "Progress", "Owner(s)"],
            ["Strategic Assessment", "Produce it", dt.date(2026, 12, 31), None, "U0AAA"],
            ["Count", 3, 4.0, 2.5, "<@U0BBB>"],
        ]
    )
    plan = read_plan(data, "plan.xlsx")
    assert plan.format == "xlsx"
    assert plan.title == "Maldon CSP Statutory functions"
    first, second = plan.rows
    assert (first.timescale, first.owners, first.source_line) == ("31 December 2026", ["U0AAA"], 5)
    assert (second.action, second.timescale, second.progress) == ("3", "4", "2.5")
    assert second.owners == ["<@U0BBB>"]


def test_xlsx_problems_are_reported_by_row() -> None:
    data = _workbook([["Objective", "Action"], ["A", "a"], ["A", "b", "c"]])
    assert str(problems_of(data, "plan.xlsx")).startswith("plan.xlsx row 3: this row has 3")


def test_xlsx_is_detected_by_content_whatever_the_name() -> None:
    data = _workbook([["Objective", "Action"], ["A", "a"]])
    assert read_plan(data, "plan.csv").format == "xlsx"
    assert read_plan(data, "upload").format == "xlsx"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"PK\x03\x04not really a zip", "plan.xlsx"),
        (b"Objective,Action\nA,a\n", "plan.xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "plan.xls"),
    ],
)
def test_broken_or_old_workbooks_are_refused_kindly(data: bytes, name: str) -> None:
    text = str(problems_of(data, name))
    assert "Excel" in text
    assert "CSV UTF-8" in text


def test_xlsx_formula_like_text_stays_text() -> None:
    data = write_plan_xlsx([{"title": "=1+2", "action": "a", "timescale": "t"}])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert isinstance(sheet, Worksheet)
    assert sheet["A2"].value == "=1+2"
    assert sheet["A2"].data_type == "s"
    assert read_plan(data, "plan.xlsx").rows[0].title == "=1+2"
