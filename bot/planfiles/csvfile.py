"""CSV plan files: reading comma, semicolon or tab separated text, and writing the export."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from bot.planfiles.interpret import Record, interpret_table
from bot.planfiles.table import (
    COLUMN_LABELS,
    LineProblem,
    ParsedPlan,
    clean_cell,
    guard_formula,
    kept_labels,
    match_header,
    row_values,
)


def _lines(text: str) -> list[str]:
    """Split on newlines only (not on the other characters str.splitlines knows)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _csv_records(text: str, delimiter: str) -> tuple[list[Record], list[LineProblem]]:
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=False)
    records: list[Record] = []
    start = 1
    try:
        for cells in reader:
            records.append(Record(start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        return records, [
            LineProblem(
                start,
                f"this row cannot be read as CSV ({exc}); check its quotes, "
                "then import the file again",
            )
        ]
    return records, []


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which a header row appears with the most known columns."""
    best, best_score = "", 0
    head = "\n".join(text.split("\n")[:50])
    for delimiter in (",", ";", "\t"):
        records, _ = _csv_records(head, delimiter)
        for record in records:
            found = match_header(record.line, [clean_cell(c) for c in record.cells])
            if found is not None:
                score = sum(1 for c in found[0].columns if c is not None)
                if score > best_score:
                    best, best_score = delimiter, score
                break
    # With no header row under any delimiter the file is refused anyway.
    return best or ","


def read_csv(text: str, filename: str) -> ParsedPlan:
    records, problems = _csv_records(text, _sniff_delimiter(text))
    return interpret_table(records, filename, "csv", "line", problems, unquote_formulas=True)


def write_plan_csv(
    rows: Sequence[Mapping[str, object] | BaseModel],
    *,
    title: str | None = None,
    bom: bool = False,
) -> str:
    """The plan as CSV text (comma separated, CRLF line ends) that read_plan reads back.

    ``rows`` are mappings (or PlanRow objects) with the keys title, action,
    timescale, progress, owners (a list or a string), statutory_basis, and columns
    (headings to cells of columns the bot does not use, written after ours). Cells that
    a spreadsheet would run as a formula are prefixed with ``'``. Pass
    ``bom=True`` for a file Excel opens as UTF-8 on double-click.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        writer.writerow([guard_formula(title)])
    kept = kept_labels(rows)
    writer.writerow([*COLUMN_LABELS.values(), *(guard_formula(label) for label in kept)])
    for row in rows:
        writer.writerow([guard_formula(value) for value in row_values(row, kept)])
    return ("\ufeff" if bom else "") + buffer.getvalue()
