"""The seed's shape: a Word table saved as tab-separated text, page breaks and all."""

from __future__ import annotations

from bot.planfiles.interpret import Record, interpret_table
from bot.planfiles.table import ParsedPlan


def _seed_records(text: str) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(text.split("\n"), start=1):
        records.append(Record(number, [_unquote(cell) for cell in line.split("\t")]))
    return records


def _unquote(cell: str) -> str:
    """Undo Excel's quoting of a tab-separated cell: drop the outer quotes, undouble inner ones."""
    stripped = cell.strip()
    if len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"':
        return stripped[1:-1].replace('""', '"')
    return cell


def read_seed(text: str, filename: str) -> ParsedPlan:
    return interpret_table(_seed_records(text), filename, "seed", "line", [])
