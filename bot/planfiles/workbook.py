"""The plan workbook for people: Plan, Schedule, Meetings and Progress sheets, styled.

Dates are date cells, meeting times date-time cells (the partnership's local time:
Excel has no time zones), RAG a coloured cell; every sheet has a bold frozen header
row with a filter, sensible widths, and prints landscape with the header repeated.
When some objective has several actions, the Schedule and Progress sheets gain an
Action column after the Objective one (blank on a one-action objective's rows).
``bot.planfiles.ownworkbook`` reads the Plan sheet back for `plan import`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.plan.workbook import ActionRow, DatedRow, MeetingRow, PlanWorkbook, ProgressRow

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as SheetCell

CellKind = Literal["text", "wrap", "date", "month", "datetime", "rag", "yesno"]

#: The sheets, in order; their names are how `plan import` knows its own workbook.
SHEETS: tuple[str, ...] = ("Plan", "Schedule", "Meetings", "Progress")

#: Plan sheet headers (the plan file's own columns follow them). The first four and the
#: last, and those own columns, are what `plan import` reads back.
PLAN_HEADERS: tuple[str, ...] = (
    "Objective",
    "Action",
    "Lead (as written)",
    "Owners",
    "Timescale (as written)",
    "Next due",
    "Status",
    "RAG",
    "Last update",
    "Latest note",
    "Progress (plan file)",
)

RAG_COLOURS = {
    "red": ("C00000", "FFFFFF"),
    "amber": ("FFC000", "000000"),
    "green": ("00B050", "FFFFFF"),
}
_FORMATS = {"date": "d mmm yyyy", "month": "mmmm yyyy", "datetime": "d mmm yyyy hh:mm"}


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: CellKind = "text"


Value = str | dt.date | dt.datetime | bool | None
Cell = tuple[Value, CellKind]


def _plan_cells(row: ActionRow) -> list[Cell]:
    return [
        (row.objective, "wrap"),
        (row.action, "wrap"),
        (row.lead, "wrap"),
        (row.owners, "wrap"),
        (row.timescale, "wrap"),
        (row.next_due, "month" if row.next_month_only else "date"),
        (row.status, "text"),
        (row.rag, "rag"),
        (row.last_update, "date"),
        (row.latest_note, "wrap"),
        (row.plan_file_progress, "wrap"),
    ]


PLAN_WIDTHS = (34, 60, 24, 24, 28, 13, 13, 9, 13, 48, 40)


def _schedule_cells(row: DatedRow) -> list[Cell]:
    return [
        (row.due, "month" if row.month_only else "date"),
        (row.objective, "wrap"),
        (row.what, "wrap"),
        (row.kind, "text"),
        (row.body, "text"),
        (row.state, "text"),
    ]


SCHEDULE_COLUMNS = (
    Column("Due", 13),
    Column("Objective", 34),
    Column("What", 40),
    Column("Kind", 11),
    Column("Body", 22),
    Column("State", 10),
)


def _meeting_cells(row: MeetingRow) -> list[Cell]:
    when: Cell
    if row.starts is not None:
        when = (row.starts.replace(tzinfo=None), "datetime")  # local wall time
    elif row.day is not None:
        when = (row.day, "date")
    else:
        when = (row.month, "month")
    return [
        (row.body, "wrap"),
        when,
        (row.place, "wrap"),
        (row.papers_due, "date"),
        ("" if row.day is not None else "date to be set", "text"),
        (row.objective, "wrap"),
    ]


MEETING_COLUMNS = (
    Column("Body", 30),
    Column("When", 18),
    Column("Place", 30),
    Column("Papers due", 13),
    Column("Note", 15),
    Column("Objective", 34),
)


def _progress_cells(row: ProgressRow) -> list[Cell]:
    return [
        (row.at.replace(tzinfo=None), "datetime"),  # local wall time
        (row.objective, "wrap"),
        (row.author, "text"),
        (row.rag, "rag"),
        (row.done, "yesno"),
        (row.note, "wrap"),
        (row.as_of, "date"),
        (row.evidence, "text"),
    ]


PROGRESS_COLUMNS = (
    Column("Logged", 18),
    Column("Objective", 34),
    Column("By", 22),
    Column("RAG", 9),
    Column("Done", 7),
    Column("Note", 60),
    Column("As of", 13),
    Column("Evidence", 30),
)


def write_workbook(book: PlanWorkbook) -> bytes:
    """The workbook as .xlsx bytes."""
    # openpyxl is heavy: imported here so that commands that never write a workbook
    # do not load it.
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    styles = _Styles(workbook)
    plan_columns = tuple(
        Column(h, w, k)
        for h, w, (_, k) in zip(PLAN_HEADERS, PLAN_WIDTHS, _plan_cells(_EMPTY_ACTION), strict=True)
    ) + tuple(Column(heading, 20, "wrap") for heading in book.kept_columns)

    def plan_cells(row: ActionRow) -> list[Cell]:
        kept = dict(row.file_columns)
        return _plan_cells(row) + [(kept.get(h, ""), "wrap") for h in book.kept_columns]

    schedule: _Form = (SCHEDULE_COLUMNS, _schedule_cells)
    progress: _Form = (PROGRESS_COLUMNS, _progress_cells)
    if book.several_actions:  # the rows of an objective's actions say which action
        schedule = _with_action(*schedule, after=2)
        progress = _with_action(*progress, after=2)
    sheets: Sequence[tuple[Sequence[Column], Callable[[Any], list[Cell]], Sequence[Any]]] = (
        (plan_columns, plan_cells, book.actions),
        (*schedule, book.dates),
        (MEETING_COLUMNS, _meeting_cells, book.meetings),
        (*progress, book.progress),
    )
    for index, (name, (columns, cells, rows)) in enumerate(zip(SHEETS, sheets, strict=True)):
        title = f"{book.title}: {name.lower()}" if index else book.title
        _write_sheet(workbook, styles, name, title, columns, (cells(r) for r in rows), len(rows))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_Form = tuple[Sequence[Column], Callable[[Any], list[Cell]]]  # a sheet's columns and cells

#: On the Schedule and Progress sheets of a plan where some objective has several
#: actions: which action the row is about (blank for an objective with one).
ACTION_COLUMN = Column("Action", 40, "wrap")


def _with_action(
    columns: Sequence[Column], cells: Callable[[Any], list[Cell]], *, after: int
) -> _Form:
    """A sheet's columns and cells with an Action column after the Objective column."""

    def with_action(row: DatedRow | ProgressRow) -> list[Cell]:
        found = cells(row)
        return [*found[:after], (row.action, "wrap"), *found[after:]]

    return (*columns[:after], ACTION_COLUMN, *columns[after:]), with_action


_EMPTY_ACTION = ActionRow("", "", "", "", "", None, False, "", None, None, "", "")


class _Styles:
    """The workbook's named cell styles (one lookup a cell, no per-cell style objects)."""

    def __init__(self, workbook: Any) -> None:
        from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill

        top = Alignment(vertical="top")
        wrap = Alignment(wrap_text=True, vertical="top")

        def add(name: str, **parts: Any) -> str:
            workbook.add_named_style(NamedStyle(name=name, **parts))
            return name

        self.title = add("CSP title", font=Font(bold=True, size=14))
        self.header = add(
            "CSP header",
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            alignment=wrap,
        )
        self.by_kind: dict[str, str] = {
            "text": add("CSP text", alignment=top),
            "yesno": "CSP text",
            "rag": "CSP text",
            "wrap": add("CSP wrapped", alignment=wrap),
            **{
                kind: add(f"CSP {kind}", alignment=top, number_format=fmt)
                for kind, fmt in _FORMATS.items()
            },
        }
        self.rag = {
            name: add(
                f"CSP {name}",
                alignment=top,
                fill=PatternFill("solid", fgColor=fill),
                font=Font(bold=True, color=ink),
            )
            for name, (fill, ink) in RAG_COLOURS.items()
        }


def _write_sheet(
    workbook: Any,
    styles: _Styles,
    name: str,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[list[Cell]],
    count: int,
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet = workbook.create_sheet(name)
    last = get_column_letter(len(columns))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A3"  # the title and header rows stay in view
    sheet.print_title_rows = "2:2"  # the header on every printed page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.auto_filter.ref = f"A2:{last}{count + 2}"

    heading = WriteOnlyCell(sheet, value=title)
    heading.style = styles.title
    sheet.append([heading])
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.style = styles.header
        header.append(cell)
    sheet.append(header)
    by_kind, rag = styles.by_kind, styles.rag

    def make(value: Value, kind: CellKind) -> SheetCell:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
        elif kind == "yesno":
            value = "yes" if value else None
        style = by_kind[kind]
        if kind == "rag" and isinstance(value, str) and value in rag:
            style, value = rag[value], value.capitalize()
        shown: Any = value  # openpyxl takes dates too, whatever its stubs say
        cell = WriteOnlyCell(sheet, value=shown)
        cell.style = style
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula
        return cell

    for cells in rows:
        sheet.append([make(value, kind) for value, kind in cells])
