"""The scrutiny pack as an Excel workbook (openpyxl): the Word form's tables, one sheet each."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bot.reports.model import TITLE, Report
from bot.reports.stable import stable_zip
from bot.reports.tables import (
    Cell,
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
    from openpyxl.cell.cell import Cell as XlCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_WIDE = 60  # columns holding long text (action, note) are this wide; others fit the text
_DATE_WIDTH = 18


def _width(value: Cell) -> int:
    return _DATE_WIDTH if isinstance(value, dt.date) else len(str(value)) + 2


def _widths(tables: Sequence[Table]) -> dict[int, int]:
    widths: dict[int, int] = {}
    for table in tables:
        for column, header in enumerate(table.headers, start=1):
            widths[column] = max(widths.get(column, 8), len(header) + 2)
        for values in table.rows:
            for column, value in enumerate(values, start=1):
                widths[column] = min(_WIDE, max(widths[column], _width(value)))
    return widths


def _put_tables(
    sheet: WriteOnlyWorksheet, tables: Sequence[Table], head: Sequence[Sequence[Any]] = ()
) -> None:
    """Write ``head`` rows, then each table (titled when there are several), one blank
    row between. A write-only sheet streams rows, so widths are set first."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    # Write-only sheets have column_dimensions (made in their setup); the stubs omit it.
    dimensions = sheet.column_dimensions  # type: ignore[attr-defined]
    for column, width in _widths(tables).items():
        dimensions[get_column_letter(column)].width = width
    bold, big = Font(bold=True), Font(bold=True, size=12)
    wrap = Alignment(wrap_text=True, vertical="top")

    def styled(value: Any, **style: Any) -> XlCell:
        cell = WriteOnlyCell(sheet, value=value)
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def cells(values: Sequence[Cell]) -> Iterator[Any]:
        for value in values:
            if isinstance(value, dt.date):
                yield styled(value, number_format="d mmmm yyyy")
            elif isinstance(value, str):
                text = ILLEGAL_CHARACTERS_RE.sub("", value)
                if text.startswith("=") or len(text) > _WIDE:
                    cell = styled(text, alignment=wrap)
                    cell.data_type = "s"  # text, never a formula
                    yield cell
                else:
                    yield text
            else:
                yield value

    for row in head:
        sheet.append(list(row))
    for table in tables:
        if len(tables) > 1 or head:
            sheet.append([styled(table.title, font=big)])
        sheet.append([styled(h, font=bold) for h in table.headers])
        for values in table.rows:
            sheet.append(list(cells(values)))
        sheet.append([])


def render_xlsx(report: Report) -> bytes:
    """The pack as .xlsx bytes; its created and modified dates come from the report."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    book = openpyxl.Workbook(write_only=True)
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

    cover = book.create_sheet("Summary")
    name = WriteOnlyCell(cover, value=report.partnership)
    name.font = Font(bold=True, size=14)
    head: list[list[Any]] = [
        [name],
        [TITLE],
        [f"Period: {report.period}"],
        [f"Prepared: {day(report.as_at)}"],
        [],
    ]
    _put_tables(cover, [rag_table(report), movement_table(report)], head)
    sheets: list[tuple[str, Sequence[Table]]] = [
        ("Actions", [actions_table(report)]),
        ("Progress", [notes_table(report.objectives, with_ref=True)]),
        ("Overdue", [overdue_table(report.objectives, with_ref=True)]),
        ("Next quarter", [next_table(report, report.objectives, with_ref=True)]),
        ("Meetings", meetings_tables(report)),
        ("Statutory cycle", [cycle_table(report)]),
        ("Referrals", referral_tables(report)),
    ]
    for title, tables in sheets:
        sheet = book.create_sheet(title)
        if len(tables) == 1:
            sheet.freeze_panes = "A2"
        _put_tables(sheet, tables)
    out = io.BytesIO()
    # ExcelWriter, not save_workbook: that one stamps "modified" with the wall clock.
    ExcelWriter(book, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)).save()  # closes it
    return stable_zip(out.getvalue(), stamp)
