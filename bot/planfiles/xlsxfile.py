"""Excel plan files: reading a workbook's plan table (ours: its Plan sheet), writing a plain one."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from bot.planfiles.cells import date_cell_text
from bot.planfiles.interpret import Record, interpret_table
from bot.planfiles.ownworkbook import own_plan_rows
from bot.planfiles.table import COLUMN_LABELS, ParsedPlan, file_error, kept_labels, row_values


def _xlsx_cell(value: object, number_format: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):  # a datetime too
        return date_cell_text(value, number_format)
    return str(value)


def read_xlsx(data: bytes, filename: str) -> ParsedPlan:
    # openpyxl is heavy: imported here so that `csp-bot plan show` and cron sweeps,
    # which never read a workbook, do not load it.
    import openpyxl

    unreadable = (
        f"{filename} could not be opened as an Excel workbook (.xlsx): open it in Excel, "
        "save it again as .xlsx or as CSV UTF-8, and import it again."
    )
    records: list[Record] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged workbook raises many kinds of error
        raise file_error(filename, unreadable) from None
    try:
        sheets = workbook.worksheets
        own = own_plan_rows(workbook)
        if own is not None:  # our own workbook: its Plan sheet, read by our columns
            records.extend(Record(n, [_xlsx_cell(v) for v in row]) for n, row in own)
        elif sheets:
            sheet = sheets[0]
            sheet.reset_dimensions()  # trust the rows present, not the declared size
            for number, row in enumerate(sheet.iter_rows(), start=1):
                records.append(
                    Record(
                        number,
                        [
                            _xlsx_cell(cell.value, str(getattr(cell, "number_format", "") or ""))
                            for cell in row
                        ],
                    )
                )
    except Exception:
        raise file_error(filename, unreadable) from None
    finally:
        workbook.close()
    return interpret_table(records, filename, "xlsx", "row", [])


def write_plan_xlsx(
    rows: Sequence[Mapping[str, object] | BaseModel], *, title: str | None = None
) -> bytes:
    """The plan as an Excel workbook (one sheet, "Plan") that read_plan reads back."""
    # openpyxl is heavy: imported here so that `csp-bot plan show` and cron sweeps,
    # which never write a workbook, do not load it.
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.worksheet import Worksheet

    def put(
        sheet: Worksheet, row_number: int, values: Sequence[str], *, bold: bool = False
    ) -> None:
        for column, value in enumerate(values, start=1):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=row_number, column=column, value=text or None)
            if text.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if bold:
                cell.font = Font(bold=True)

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook always has one worksheet
    sheet.title = "Plan"
    row_number = 1
    if title:
        put(sheet, row_number, [title], bold=True)
        row_number += 1
    kept = kept_labels(rows)
    put(sheet, row_number, [*COLUMN_LABELS.values(), *kept], bold=True)
    sheet.freeze_panes = f"A{row_number + 1}"
    for row in rows:
        row_number += 1
        put(sheet, row_number, row_values(row, kept))
    for letter, width in zip("ABCDEF", (32, 70, 32, 32, 24, 36), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
