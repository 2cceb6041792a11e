"""The scrutiny pack as an Excel workbook (openpyxl): the Word form's tables, one sheet each."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.reports.model import TITLE, Report
from bot.reports.stable import stable_zip
from bot.reports.tables import (
    Table,
    actions_table,
    cycle_table,
    day,
    meetings_tables,
    movement_table,
    next_table,
    notes_table,
    overdue_table,
    rag_table,
    referral_tables,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_WIDE = 60  # columns holding long text (action, note) are this wide; others fit the text


def _put_tables(sheet: Worksheet, tables: Sequence[Table], *, first_row: int = 1) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    title_font = Font(bold=True, size=12)
    wrap = Alignment(wrap_text=True, vertical="top")
    widths: dict[int, int] = {}
    row = first_row
    for table in tables:
        if len(tables) > 1 or first_row > 1:
            sheet.cell(row=row, column=1, value=table.title).font = title_font
            row += 1
        for column, header in enumerate(table.headers, start=1):
            sheet.cell(row=row, column=column, value=header).font = bold
            widths[column] = max(widths.get(column, 8), len(header) + 2)
        row += 1
        for values in table.rows:
            for column, value in enumerate(values, start=1):
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell = sheet.cell(row=row, column=column, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
                if isinstance(value, dt.date):
                    cell.number_format = "d mmmm yyyy"
                    size = 16
                else:
                    size = len(str(value)) + 2
                if size > _WIDE:
                    cell.alignment = wrap
                widths[column] = min(_WIDE, max(widths.get(column, 8), size))
            row += 1
        row += 1
    from openpyxl.utils import get_column_letter

    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def render_xlsx(report: Report) -> bytes:
    """The pack as .xlsx bytes; its created and modified dates come from the report."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    book = openpyxl.Workbook()
    stamp = dt.datetime.combine(report.as_at, dt.time(), tzinfo=dt.UTC)
    naive = stamp.replace(tzinfo=None)  # openpyxl keeps UTC as naive datetimes
    props = book.properties
    props.title = f"{TITLE}, {report.period}"
    props.subject = report.partnership
    props.creator = report.partnership
    props.lastModifiedBy = report.partnership
    props.created = naive
    props.modified = naive
    props.keywords = f"scrutiny, {report.quarter.code}"

    cover = book.active
    assert cover is not None
    cover.title = "Summary"
    cover["A1"] = report.partnership
    cover["A1"].font = openpyxl.styles.Font(bold=True, size=14)
    cover["A2"] = TITLE
    cover["A3"] = f"Period: {report.period}"
    cover["A4"] = f"Prepared: {day(report.as_at)}"
    _put_tables(cover, [rag_table(report), movement_table(report)], first_row=6)

    sheets: list[tuple[str, Sequence[Table]]] = [
        ("Actions", [actions_table(report)]),
        ("Progress", [notes_table(report.objectives, with_ref=True)]),
        ("Overdue", [overdue_table(report.objectives, with_ref=True)]),
        ("Next quarter", [next_table(report, report.objectives, with_ref=True)]),
        ("Meetings", meetings_tables(report)),
        ("Statutory cycle", [cycle_table(report)]),
        ("Referrals", referral_tables(report)),
    ]
    for name, tables in sheets:
        sheet = book.create_sheet(name)
        _put_tables(sheet, tables)
        if len(tables) == 1:
            sheet.freeze_panes = "A2"
    out = io.BytesIO()
    # ExcelWriter, not save_workbook: that one stamps "modified" with the wall clock.
    ExcelWriter(book, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)).save()  # closes it
    return stable_zip(out.getvalue(), stamp)
