"""Plan tables: the row model, cell cleaning, header recognition and the problem list."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from pydantic import BaseModel

from bot.errors import UserError

PlanFormat = Literal["seed", "csv", "xlsx", "json"]

#: Column name -> the label written in exports and shown in messages.
COLUMN_LABELS: dict[str, str] = {
    "title": "Objective",
    "action": "Outcome/Action",
    "timescale": "Timescale",
    "progress": "Progress",
    "owners": "Owner(s)",
    "statutory_basis": "Statutory basis",
}
EXPORT_COLUMNS: tuple[str, ...] = tuple(COLUMN_LABELS)
MAX_REPORTED_PROBLEMS = 20
USAGE = (
    "A plan file has a header row naming its columns (Objective, Outcome/Action, "
    "Timescale, Progress, and optionally Owner(s) and Statutory basis) and one row "
    "per objective below it."
)

# Header spellings, compared after lower-casing and dropping everything but letters
# and "/": "Owner(s)" -> "owners", "Outcome / Action" -> "outcome/action".
_HEADER_SYNONYMS: dict[str, frozenset[str]] = {
    "title": frozenset(
        {
            "objective",
            "objectives",
            "objectivetitle",
            "title",
            "function",
            "functions",
            "statutoryfunction",
            "statutoryfunctions",
        }
    ),
    "action": frozenset({"action", "actions", "outcome", "outcomes", "actiontext", "description"}),
    "timescale": frozenset(
        {
            "timescale",
            "timescales",
            "timescaletext",
            "timeframe",
            "deadline",
            "deadlines",
            "due",
            "duedate",
            "when",
            "targetdate",
        }
    ),
    "progress": frozenset({"progress", "status", "update", "updates", "progressupdate"}),
    "owners": frozenset(
        {
            "owner",
            "owners",
            "lead",
            "leads",
            "leadofficer",
            "leadofficers",
            "leadagency",
            "responsible",
            "responsibleofficer",
        }
    ),
    "statutory_basis": frozenset(
        {"statutorybasis", "basis", "legalbasis", "legislation", "statute", "statutoryduty"}
    ),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = re.compile(r"'*[=+\-@]")
_OWNER_TOKEN = re.compile(r"(?:<[^>]*>|[^;,<]|<)+")


class PlanRow(BaseModel):
    """One objective as read from a plan file, cells already tidied."""

    title: str
    action: str
    timescale: str
    progress: str = ""
    owners: list[str] = []
    statutory_basis: str | None = None
    source_line: int  # 1-based line (or spreadsheet row, or JSON entry) where the row starts


class ParsedPlan(BaseModel):
    title: str | None
    rows: list[PlanRow]
    format: PlanFormat


class LineProblem(NamedTuple):
    """One thing wrong with the file; ``line`` 0 means the file as a whole."""

    line: int
    message: str


class PlanFileError(UserError):
    """The plan file cannot be read as it is; ``str()`` lists every problem, line by line."""

    def __init__(self, filename: str, problems: Sequence[LineProblem], unit: str = "line") -> None:
        self.filename = filename
        self.unit = unit
        self.problems: list[LineProblem] = sorted(problems, key=lambda p: p.line)
        super().__init__(self._render())

    def _render(self) -> str:
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        out: list[str] = []
        for problem in shown:
            if problem.line <= 0:
                out.append(problem.message)
            elif not out:
                out.append(f"{self.filename} {self.unit} {problem.line}: {problem.message}")
            else:
                out.append(f"{self.unit} {problem.line}: {problem.message}")
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            out.append(f"...and {hidden} more.")
        out.append("Nothing was imported: fix the file and import it again.")
        return "\n".join(out)


def file_error(filename: str, message: str) -> PlanFileError:
    return PlanFileError(filename, [LineProblem(0, message)])


def empty_message(filename: str, fmt: PlanFormat) -> str:
    what = "its first sheet is empty" if fmt == "xlsx" else "the file is empty"
    return f"{filename}: {what}. {USAGE}"


def clean_cell(value: str) -> str:
    """Strip a cell and collapse every run of whitespace (and control characters) to one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def split_owners(value: str) -> list[str]:
    """Split an Owner(s) cell on ";" or ",", keeping Slack mentions such as ``<@U1|Smith, J>``."""
    owners: list[str] = []
    for token in _OWNER_TOKEN.findall(value):
        owner = clean_cell(token)
        if owner and owner not in owners:
            owners.append(owner)
    return owners


def unguard_formula(cell: str) -> str:
    if cell.startswith("'") and _FORMULA_START.match(cell, 1):
        return cell[1:]
    return cell


def guard_formula(cell: str) -> str:
    """Keep spreadsheets from running a CSV cell as a formula (read back by unguard_formula)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z/]", "", text.casefold())


def column_for_header(text: str) -> str | None:
    """The column a header cell names ("Owner(s)" -> "owners"), or None if unknown."""
    key = _header_key(text)
    if not key:
        return None
    found = _lookup_header_key(key)
    if found is not None or "/" not in key:
        return found
    # "Outcome/Action", "Owner/Lead": every part must name the same column.
    parts = {_lookup_header_key(part) for part in key.split("/") if part}
    if len(parts) == 1:
        return parts.pop()
    return None


def _lookup_header_key(key: str) -> str | None:
    for column, names in _HEADER_SYNONYMS.items():
        if key in names:
            return column
    return None


@dataclass
class Header:
    line: int
    columns: list[str | None]  # one per header cell, None where the cell is empty
    labels: list[str]  # header cells as written (tidied)

    @property
    def width(self) -> int:
        return len(self.columns)

    def expected(self) -> str:
        return ", ".join(label for label in self.labels if label)


def match_header(line: int, cells: list[str]) -> tuple[Header, list[LineProblem]] | None:
    """A header row if ``cells`` look like one: names Objective and at least one other column."""
    columns = [column_for_header(cell) if cell else None for cell in cells]
    named = [c for c in columns if c is not None]
    unknown = [cell for cell, col in zip(cells, columns, strict=True) if cell and col is None]
    if "title" not in named or len(named) < 2 or len(unknown) > len(named):
        return None
    problems: list[LineProblem] = []
    for index, (cell, column) in enumerate(zip(cells, columns, strict=True), start=1):
        if cell and column is None:
            problems.append(
                LineProblem(
                    line,
                    f'column {index} is headed "{cell}", which is not a plan column; '
                    f"use {', '.join(COLUMN_LABELS.values())}, or delete the column",
                )
            )
    seen: dict[str, str] = {}
    for cell, column in zip(cells, columns, strict=True):
        if column is None:
            continue
        if column in seen:
            problems.append(
                LineProblem(
                    line,
                    f'"{seen[column]}" and "{cell}" both mean {COLUMN_LABELS[column]}; '
                    "keep one of the two columns",
                )
            )
        else:
            seen[column] = cell
    return Header(line, columns, list(cells)), problems


def row_values(row: Mapping[str, object] | BaseModel) -> list[str]:
    """One row (a mapping or a PlanRow) as the export's cells, in COLUMN_LABELS order."""
    mapping: Mapping[str, object] = row.model_dump() if isinstance(row, BaseModel) else row

    def get(*keys: str) -> object:
        for key in keys:
            value = mapping.get(key)
            if value is not None:
                return value
        return None

    owners = get("owners")
    if isinstance(owners, list | tuple):
        owners_text = "; ".join(str(owner) for owner in owners)
    else:
        owners_text = "" if owners is None else str(owners)
    values = [
        get("title", "objective"),
        get("action", "action_text"),
        get("timescale", "timescale_text"),
        get("progress"),
        owners_text,
        get("statutory_basis"),
    ]
    return ["" if value is None else str(value) for value in values]
