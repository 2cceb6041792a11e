"""Recognising the bot's own workbook on import: its Plan sheet, read by our column names.

Its Plan sheet also holds columns `plan import` must not read (Next due, Status, the
latest note), so it is read by position from our own header, not by header words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.planfiles.table import COLUMN_LABELS
from bot.planfiles.workbook import PLAN_HEADERS, SHEETS

#: Our Plan header -> the plan column it carries back.
_READ_BACK = {
    "Objective": "title",
    "Action": "action",
    "Lead (as written)": "owners",
    "Timescale (as written)": "timescale",
    "Progress (plan file)": "progress",
}
_HEADER_ROWS = 5  # the header is within the first rows (under the title)


def own_plan_rows(workbook: Any) -> Iterator[tuple[int, list[object]]] | None:
    """The rows of our workbook's Plan sheet as a plan table (title rows, a header in
    the plan's own column names, then one row per action), or None when ``workbook`` is
    not one this bot wrote (its first sheet is not "Plan" headed as we head it)."""
    names = list(workbook.sheetnames)
    if names[:1] != [SHEETS[0]]:  # our Plan sheet comes first; people may add sheets
        return None
    sheet = workbook["Plan"]
    sheet.reset_dimensions()  # trust the rows present, not the declared size
    head = list(sheet.iter_rows(max_row=_HEADER_ROWS, values_only=True))
    header_at = next(
        (
            n
            for n, row in enumerate(head, start=1)
            if tuple(row[: len(PLAN_HEADERS)]) == PLAN_HEADERS
        ),
        None,
    )
    if header_at is None:
        return None
    keep = [PLAN_HEADERS.index(header) for header in _READ_BACK]
    labels: list[object] = [COLUMN_LABELS[column] for column in _READ_BACK.values()]
    # After ours come the plan file's own columns, kept and read back as they are.
    header = head[header_at - 1]
    for index in range(len(PLAN_HEADERS), len(header)):
        if header[index] not in (None, ""):
            keep.append(index)
            labels.append(header[index])

    def rows() -> Iterator[tuple[int, list[object]]]:
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number < header_at:
                yield number, list(row)
            elif number == header_at:
                yield number, list(labels)
            else:
                yield number, [row[i] if i < len(row) else None for i in keep]

    return rows()
