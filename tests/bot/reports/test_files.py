"""The pack as Word and Excel: sections, the chart, no referral contents, the same bytes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from docx import Document

from bot.context import AppContext
from bot.reports.files import render
from bot.reports.model import Report
from tests.bot.reports.planting import MARKER, plant
from tests.bot.reports.test_build import report_for
from tests.conftest import NOW


@pytest.fixture
def report(seeded_ctx: AppContext) -> Report:
    plant(seeded_ctx)
    return report_for(seeded_ctx, "2026Q3")


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_the_word_pack_has_its_sections_and_the_chart(report: Report) -> None:
    doc = Document(io.BytesIO(render(report, "docx")))
    texts = [p.text for p in doc.paragraphs]
    headings = [
        p.text
        for p in doc.paragraphs
        if p.style is not None and p.style.name.startswith("Heading 1")
    ]
    assert headings == [
        "Summary",
        "Objectives and actions",
        "Meetings",
        "Statutory cycle",
        "Safeguarding referrals",
    ]
    assert texts[0] == "Maldon Community Safety Partnership"  # the cover
    assert "Period: Q3 2026/27 (October to December 2026)" in texts
    assert any(t.startswith("Prepared: 26 November 2026") for t in texts)
    assert "13. Reducing Reoffending" in texts and "Action 7.1" in texts
    assert "RAG now: Amber (start of quarter: Red)" in texts
    assert len(doc.inline_shapes) == 1
    images = [n for n in _members(render(report, "docx")) if n.startswith("word/media/")]
    assert len(images) == 1 and images[0].endswith(".png")
    summary = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in summary.rows]
    assert rows[0] == ["Status", "Start of quarter", "As at 26 November 2026", "Change"]
    assert ["Amber", "0", "1", "+1"] in rows and ["Green", "1", "0", "-1"] in rows
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Panel booked for 3 March" in cells and "overdue by 210 days" in cells
    assert "FGM" in cells and "Acknowledged within the clock" in cells


def test_the_excel_pack_has_the_same_tables_with_date_cells(report: Report) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert book.sheetnames == [
        "Summary",
        "Actions",
        "Progress",
        "Overdue",
        "Next quarter",
        "Meetings",
        "Statutory cycle",
        "Referrals",
    ]
    actions = list(book["Actions"].iter_rows(values_only=True))
    assert actions[0][:7] == (
        "Ref",
        "Objective",
        "Action",
        "Owners",
        "Status",
        "RAG at start",
        "RAG now",
    )
    assert len(actions) == 1 + 13
    dhr = next(r for r in actions if r[1] == "Domestic Homicide Reviews")
    assert dhr[5:8] == ("Red", "Amber", 2)
    progress = book["Progress"]
    dates = [row[2] for row in progress.iter_rows(min_row=2)]
    assert dates and all(c.is_date for c in dates)
    assert dates[0].value.date() == dt.date(2026, 10, 14)  # plan order: DHR first
    referrals = [r for r in book["Referrals"].iter_rows(values_only=True) if r[0]]
    assert ("FGM", 1) in referrals and ("Routine", 2) in referrals


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_no_referral_name_narrative_or_reference_in_the_pack(report: Report, fmt: str) -> None:
    data = render(report, fmt)  # type: ignore[arg-type]
    for name, body in _members(data).items():
        assert MARKER.encode() not in body, name
        assert b"SG-2026" not in body, name
    if fmt == "docx":
        doc = Document(io.BytesIO(data))
        text = "\n".join(p.text for p in doc.paragraphs)
        text += "".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    else:
        book = openpyxl.load_workbook(io.BytesIO(data))
        text = "".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row)
    assert MARKER not in text and "SG-2026" not in text


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_same_data_and_quarter_give_the_same_bytes(seeded_ctx: AppContext, fmt: str) -> None:
    plant(seeded_ctx)
    first = render(report_for(seeded_ctx, "2026Q2"), fmt)  # type: ignore[arg-type]
    later = render(report_for(seeded_ctx, "2026Q2", NOW + dt.timedelta(days=40)), fmt)  # type: ignore[arg-type]
    assert first == later
    stamp = (2026, 9, 30, 0, 0, 0)  # the quarter's last day, never the wall clock
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {stamp}
    when = dt.datetime(2026, 9, 30, tzinfo=dt.UTC)
    if fmt == "docx":
        props = Document(io.BytesIO(first)).core_properties
        assert props.created == when == props.modified
    else:
        book = openpyxl.load_workbook(io.BytesIO(first))  # openpyxl reads UTC as naive
        created, modified = book.properties.created, book.properties.modified
        assert created is not None and modified is not None
        assert created.replace(tzinfo=dt.UTC) == when == modified.replace(tzinfo=dt.UTC)
