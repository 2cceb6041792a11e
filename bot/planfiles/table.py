"""Plan tables: the row model, cell cleaning, header recognition and the problem list."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from pydantic import BaseModel

from bot.errors import UserError
from store.models import Rag

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
    "Timescale, Progress, and optionally Owner(s), Status and Statutory basis; other "
    "columns are kept as they are) and one row per action below it (an objective with "
    "several actions has several rows, its title repeated or left blank below the first)."
)

# Header spellings, compared after lower-casing and dropping everything but letters
# and "/": "Owner(s)" -> "owners", "Outcome / Action" -> "outcome/action". The words
# real plans use: Objective / Theme / Priority / Outcome; Action(s) / Activity; Lead /
# Lead officer / Lead agency / Owner / Responsible; Timescale / Target date / Deadline /
# By when / Due / Completion date; Status / RAG; Progress / Update / Comments.
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
            "priority",
            "priorities",
            "strategicpriority",
            "strategicpriorities",
            "priorityarea",
            "theme",
            "themes",
            "outcome",
            "outcomes",
            "intendedoutcome",
        }
    ),
    "action": frozenset(
        {
            "action",
            "actions",
            "actiontext",
            "description",
            "activity",
            "activities",
            "keyactions",
            "whatwewilldo",
            "task",
            "tasks",
        }
    ),
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
            "bywhen",
            "targetdate",
            "completiondate",
            "targetcompletiondate",
            "date",
        }
    ),
    "status": frozenset({"status", "rag", "ragstatus", "ragrating", "currentstatus"}),
    "progress": frozenset(
        {"progress", "update", "updates", "progressupdate", "comments", "comment", "notes"}
    ),
    "owners": frozenset(
        {
            "owner",
            "owners",
            "lead",
            "leads",
            "leadofficer",
            "leadofficers",
            "leadagency",
            "leadagencies",
            "leadpartner",
            "leadorganisation",
            "responsible",
            "responsibleofficer",
            "responsibility",
        }
    ),
    "statutory_basis": frozenset(
        {"statutorybasis", "basis", "legalbasis", "legislation", "statute", "statutoryduty"}
    ),
}
# Of several columns that could hold the objective, the most specific one does; the
# others are kept as columns of their own ("Theme", then "Objective": Objective).
_TITLE_RANK: dict[str, int] = {
    **dict.fromkeys(("priority", "priorities", "strategicpriority"), 1),
    **dict.fromkeys(("strategicpriorities", "priorityarea"), 1),
    **dict.fromkeys(("theme", "themes"), 2),
    **dict.fromkeys(("outcome", "outcomes", "intendedoutcome"), 3),
}
#: Header.columns entry for a column the bot does not use: this prefix and its heading.
KEPT = "kept:"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = re.compile(r"'*[=+\-@]")
_OWNER_TOKEN = re.compile(r"(?:<[^>]*>|[^;,<]|<)+")


class PlanRow(BaseModel):
    """One action of an objective as read from a plan file, cells already tidied.

    Rows with the same title (written again, or left blank below it) are the actions
    of one objective, in file order (:meth:`ParsedPlan.objectives`)."""

    title: str
    action: str
    timescale: str
    progress: str = ""
    owners: list[str] = []
    statutory_basis: str | None = None
    # The Status/RAG cell as written (also kept in ``columns`` under its heading).
    status: str = ""
    # Cells of columns the bot does not use (and the Status cell), by heading.
    columns: dict[str, str] = {}
    source_line: int  # 1-based line (or spreadsheet row, or JSON entry) where the row starts


class ParsedPlan(BaseModel):
    title: str | None
    rows: list[PlanRow]
    format: PlanFormat
    kept_columns: list[str] = []  # headings of columns the bot does not use, kept
    status_column: str | None = None  # heading of the Status/RAG column, if any

    def objectives(self) -> list[list[PlanRow]]:
        """The rows grouped by objective (title, case aside), each group being that
        objective's actions in file order; groups in the order each title first appears."""
        groups: dict[str, list[PlanRow]] = {}
        for row in self.rows:
            groups.setdefault(row.title.strip().casefold(), []).append(row)
        return list(groups.values())


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
    # "Outcome/Action", "Owner/Lead": every part must name the same column (an outcome
    # beside an action is the action).
    parts = {_lookup_header_key(part) for part in key.split("/") if part}
    if parts == {"title", "action"} and all(
        _TITLE_RANK.get(part) == 3 for part in key.split("/") if _lookup_header_key(part) == "title"
    ):
        return "action"
    if len(parts) == 1:
        return parts.pop()
    return None


def _title_rank(text: str) -> int:
    key = _header_key(text)
    ranks = [_TITLE_RANK.get(part, 0) for part in key.split("/") if part]
    return min(ranks, default=0)


def _lookup_header_key(key: str) -> str | None:
    for column, names in _HEADER_SYNONYMS.items():
        if key in names:
            return column
    return None


@dataclass
class Header:
    line: int
    # One per header cell: a column name, KEPT + heading for a column kept as written,
    # or None where the cell is empty.
    columns: list[str | None]
    labels: list[str]  # header cells as written (tidied)

    @property
    def width(self) -> int:
        return len(self.columns)

    def expected(self) -> str:
        return ", ".join(label for label in self.labels if label)

    def label_of(self, column: str) -> str:
        return self.labels[self.columns.index(column)]

    @property
    def kept(self) -> list[str]:
        return [c.removeprefix(KEPT) for c in self.columns if c and c.startswith(KEPT)]


def match_header(line: int, cells: list[str]) -> tuple[Header, list[LineProblem]] | None:
    """A header row if ``cells`` look like one: names the objective's column and its
    action or timescale. Columns the bot does not use (and a second column for the
    same thing) are kept under their heading, never dropped."""
    known = [column_for_header(cell) if cell else None for cell in cells]
    named = {c for c in known if c is not None}
    if "title" not in named or not named & {"action", "timescale"}:
        return None
    titles = [i for i, c in enumerate(known) if c == "title"]
    best = min(titles, key=lambda i: (_title_rank(cells[i]), i))
    columns: list[str | None] = []
    taken: set[str] = set()
    for index, (cell, column) in enumerate(zip(cells, known, strict=True)):
        if not cell:
            columns.append(None)
        elif column is None or column in taken or (column == "title" and index != best):
            columns.append(KEPT + _unique_label(cell, columns))
        else:
            taken.add(column)
            columns.append(column)
    return Header(line, columns, list(cells)), []


def _unique_label(cell: str, columns: Sequence[str | None]) -> str:
    used = {c.removeprefix(KEPT) for c in columns if c and c.startswith(KEPT)}
    label, number = cell, 2
    while label in used:
        label, number = f"{cell} ({number})", number + 1
    return label


_RAG_WORDS: dict[str, Rag] = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}


def rag_from_status(text: str) -> Rag | None:
    """The RAG a Status cell states ("Amber", "G"), or None if it says something else."""
    return _RAG_WORDS.get(re.sub(r"[^a-z]", "", text.casefold()))


def kept_labels(rows: Sequence[Mapping[str, object] | BaseModel]) -> list[str]:
    """The headings of the kept columns (``columns``) of ``rows``, in first-seen order."""
    labels: list[str] = []
    for row in rows:
        mapping: Mapping[str, object] = row.model_dump() if isinstance(row, BaseModel) else row
        columns = mapping.get("columns")
        if isinstance(columns, Mapping):
            labels.extend(str(label) for label in columns if str(label) not in labels)
    return labels


def row_values(row: Mapping[str, object] | BaseModel, kept: Sequence[str] = ()) -> list[str]:
    """One row (a mapping or a PlanRow) as the export's cells, in COLUMN_LABELS order,
    then the cells of the ``kept`` columns (by heading) it has."""
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
    columns = mapping.get("columns")
    if kept:
        found = columns if isinstance(columns, Mapping) else {}
        values.extend(found.get(label) for label in kept)
    return ["" if value is None else str(value) for value in values]
