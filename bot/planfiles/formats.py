"""Read and write the partnership's plan file, with no database and no Slack.

A plan is a table with one row per statutory objective. Four shapes are read:

* ``seed``: the Word table saved as tab-separated text that partnerships keep
  today (title lines, a header row, a header repeated at each page break, and
  a row with an empty Objective that continues the row above);
* ``csv``: comma, semicolon or tab separated, as Excel or a script writes it;
* ``xlsx``: the first worksheet of an Excel workbook (title rows may sit above
  the header row);
* ``json``: the bot's own export, a list of objects or ``{"objectives": [...]}``.

Every non-blank line below the header becomes a row, is merged into the row
above (a continuation), or is reported. The whole file is read before anything
is reported, so one :class:`PlanFileError` lists every problem at once.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import PurePath
from typing import Literal, NamedTuple

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
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

MAX_TITLE_LENGTH = 300  # objective.title is String(300)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000
MAX_REPORTED_PROBLEMS = 20

SEED_PLAN_RESOURCE = "seed-plan.txt"

_USAGE = (
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
_JSON_KEYS: dict[str, str] = {
    "title": "title",
    "objective": "title",
    "action": "action",
    "action_text": "action",
    "timescale": "timescale",
    "timescale_text": "timescale",
    "progress": "progress",
    "owners": "owners",
    "statutory_basis": "statutory_basis",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = re.compile(r"'*[=+\-@]")
_OWNER_TOKEN = re.compile(r"(?:<[^>]*>|[^;,<]|<)+")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def _file_error(filename: str, message: str) -> PlanFileError:
    return PlanFileError(filename, [LineProblem(0, message)])


# --- cells -------------------------------------------------------------------------------


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


# --- reading: one table interpreter for seed text, CSV and XLSX -------------------------


@dataclass
class _Record:
    line: int
    cells: list[str]


@dataclass
class _Header:
    line: int
    columns: list[str | None]  # one per header cell, None where the cell is empty
    labels: list[str]  # header cells as written (tidied)

    @property
    def width(self) -> int:
        return len(self.columns)

    def expected(self) -> str:
        return ", ".join(label for label in self.labels if label)


@dataclass
class _Draft:
    line: int
    values: dict[str, str]
    owners: list[str] = field(default_factory=list)

    def to_row(self) -> PlanRow:
        return PlanRow(
            title=self.values.get("title", ""),
            action=self.values.get("action", ""),
            timescale=self.values.get("timescale", ""),
            progress=self.values.get("progress", ""),
            owners=self.owners,
            statutory_basis=self.values.get("statutory_basis") or None,
            source_line=self.line,
        )


def _match_header(line: int, cells: list[str]) -> tuple[_Header, list[LineProblem]] | None:
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
    return _Header(line, columns, list(cells)), problems


def _interpret_table(
    records: Iterable[_Record],
    filename: str,
    fmt: PlanFormat,
    unit: str,
    problems: list[LineProblem],
    *,
    unquote_formulas: bool = False,
) -> ParsedPlan:
    header: _Header | None = None
    pre_header: list[tuple[int, list[str]]] = []
    drafts: list[_Draft] = []
    last: _Draft | None = None  # row a continuation would extend (None after a bad row)
    bad_row_seen = False
    title: str | None = None
    any_text = False

    for record in records:
        cells = [clean_cell(cell) for cell in record.cells]
        if unquote_formulas:
            cells = [_unguard_formula(cell) for cell in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        any_text = True
        line = record.line
        if header is None:
            found = _match_header(line, cells)
            if found is None:
                pre_header.append((line, cells))
                continue
            header, header_problems = found
            problems.extend(header_problems)
            title = _title_from(pre_header, header, problems)
            continue
        if _match_header(line, cells) is not None:
            continue  # header repeated at a page break
        if len(cells) == 1 and title is not None and cells[0] == title:
            continue  # page title repeated at a page break
        if len(drafts) >= MAX_ROWS:
            problems.append(
                LineProblem(line, f"the plan has more than {MAX_ROWS} rows; split it into files")
            )
            break
        if len(cells) > header.width:
            problems.append(
                LineProblem(
                    line,
                    f"this row has {len(cells)} columns; expected at most {header.width} "
                    f"({header.expected()})",
                )
            )
            last, bad_row_seen = None, True
            continue
        unlabelled = [
            index
            for index, cell in enumerate(cells, start=1)
            if cell and header.columns[index - 1] is None
        ]
        if unlabelled:
            problems.append(
                LineProblem(
                    line,
                    f"column {unlabelled[0]} has text but no heading; "
                    f"give it a heading ({header.expected()}) or move the text",
                )
            )
            last, bad_row_seen = None, True
            continue
        values: dict[str, str] = {}
        for cell, column in zip(cells, header.columns, strict=False):
            if column is not None and cell:
                values[column] = cell
        if not values.get("title"):
            if fmt != "seed":
                # Only the Word table's page breaks split a row; in a spreadsheet a row
                # without a title is a mistake to show, not something to merge silently.
                problems.append(
                    LineProblem(
                        line,
                        f"this row has no {header.labels[header.columns.index('title')]}; "
                        "every row needs its objective's title (if the text continues the "
                        "row above, move it into that row's cells)",
                    )
                )
            elif last is not None:
                _continue_row(last, values)
            elif not bad_row_seen:
                problems.append(
                    LineProblem(
                        line,
                        f"this row has no {header.labels[header.columns.index('title')]}; "
                        "every row needs its objective's title (a row with an empty "
                        "Objective continues the row above it, and there is none above)",
                    )
                )
                bad_row_seen = True
            continue
        owners = split_owners(values.pop("owners", ""))
        last = _Draft(line, values, owners)
        drafts.append(last)

    if header is None:
        if not any_text:
            raise _file_error(filename, _empty_message(filename, fmt))
        raise PlanFileError(
            filename,
            [
                *problems,
                LineProblem(
                    0,
                    f"{filename} has no header row: I could not find a row naming the "
                    f"columns. {_USAGE}",
                ),
            ],
        )
    rows = _finish(drafts, problems, header.line, filename, unit)
    return ParsedPlan(title=title, rows=rows, format=fmt)


def _title_from(
    pre_header: list[tuple[int, list[str]]], header: _Header, problems: list[LineProblem]
) -> str | None:
    parts: list[str] = []
    for line, cells in pre_header:
        filled = [cell for cell in cells if cell]
        if len(filled) == 1:
            parts.append(filled[0])
        else:
            problems.append(
                LineProblem(
                    line,
                    f"this row comes before the header row ({header.line}) and is not a "
                    "title; move it below the header or delete it",
                )
            )
    return " ".join(parts) or None


def _continue_row(row: _Draft, values: Mapping[str, str]) -> None:
    for column, text in values.items():
        if column == "owners":
            row.owners.extend(o for o in split_owners(text) if o not in row.owners)
        else:
            before = row.values.get(column, "")
            row.values[column] = f"{before} {text}" if before else text


def _finish(
    drafts: list[_Draft], problems: list[LineProblem], header_line: int, filename: str, unit: str
) -> list[PlanRow]:
    first_line: dict[str, int] = {}
    for draft in drafts:
        title = draft.values.get("title", "")
        if len(title) > MAX_TITLE_LENGTH:
            problems.append(
                LineProblem(
                    draft.line,
                    f"the objective title is {len(title)} characters long; keep it under "
                    f"{MAX_TITLE_LENGTH} and put the detail in Outcome/Action",
                )
            )
        key = title.casefold()
        if key in first_line:
            problems.append(
                LineProblem(
                    draft.line,
                    f'the objective "{title}" is already on {unit} {first_line[key]}; '
                    "give each objective its own title, or merge the two rows",
                )
            )
        else:
            first_line[key] = draft.line
    if problems:
        raise PlanFileError(filename, problems, unit)
    if not drafts:
        where = f"a header row ({unit} {header_line})" if header_line else "no entries"
        raise _file_error(
            filename,
            f"{filename} has {where} but no objectives: add one row per objective "
            "and import it again.",
        )
    return [draft.to_row() for draft in drafts]


def _empty_message(filename: str, fmt: PlanFormat) -> str:
    what = "its first sheet is empty" if fmt == "xlsx" else "the file is empty"
    return f"{filename}: {what}. {_USAGE}"


# --- text formats ------------------------------------------------------------------------


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _file_error(filename, _not_utf8(filename, None)) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise _file_error(filename, _not_utf8(filename, line)) from None
    if "\x00" in text:
        raise _file_error(
            filename,
            f"{filename} contains NUL characters, so it is not a text file: save the plan "
            "as CSV UTF-8 (or .xlsx) and import it again.",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_utf8(filename: str, line: int | None) -> str:
    where = f" (the first bad byte is on line {line})" if line is not None else ""
    return (
        f"{filename} is not UTF-8 text{where}: save it as UTF-8 (in Excel: CSV UTF-8) "
        "and import it again."
    )


def _lines(text: str) -> list[str]:
    """Split on newlines only (not on the other characters str.splitlines knows)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _seed_records(text: str) -> list[_Record]:
    records: list[_Record] = []
    for number, line in enumerate(text.split("\n"), start=1):
        records.append(_Record(number, [_unquote(cell) for cell in line.split("\t")]))
    return records


def _unquote(cell: str) -> str:
    """Undo Excel's quoting of a tab-separated cell: drop the outer quotes, undouble inner ones."""
    stripped = cell.strip()
    if len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"':
        return stripped[1:-1].replace('""', '"')
    return cell


def _csv_records(text: str, delimiter: str) -> tuple[list[_Record], list[LineProblem]]:
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=False)
    records: list[_Record] = []
    start = 1
    try:
        for cells in reader:
            records.append(_Record(start, cells))
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
            found = _match_header(record.line, [clean_cell(c) for c in record.cells])
            if found is not None:
                score = sum(1 for c in found[0].columns if c is not None)
                if score > best_score:
                    best, best_score = delimiter, score
                break
    # With no header row under any delimiter the file is refused anyway.
    return best or ","


def _unguard_formula(cell: str) -> str:
    if cell.startswith("'") and _FORMULA_START.match(cell, 1):
        return cell[1:]
    return cell


def _guard_formula(cell: str) -> str:
    """Keep spreadsheets from running a CSV cell as a formula (read back by _unguard_formula)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def _read_seed(text: str, filename: str) -> ParsedPlan:
    return _interpret_table(_seed_records(text), filename, "seed", "line", [])


def _read_csv(text: str, filename: str) -> ParsedPlan:
    records, problems = _csv_records(text, _sniff_delimiter(text))
    return _interpret_table(records, filename, "csv", "line", problems, unquote_formulas=True)


# --- xlsx --------------------------------------------------------------------------------


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        text = f"{value.day} {value:%B %Y}"
        return text if value.time() == dt.time() else f"{text} {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def _read_xlsx(data: bytes, filename: str) -> ParsedPlan:
    unreadable = (
        f"{filename} could not be opened as an Excel workbook (.xlsx): open it in Excel, "
        "save it again as .xlsx or as CSV UTF-8, and import it again."
    )
    records: list[_Record] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged workbook raises many kinds of error
        raise _file_error(filename, unreadable) from None
    try:
        sheets = workbook.worksheets
        if sheets:
            sheet = sheets[0]
            sheet.reset_dimensions()  # trust the rows present, not the declared size
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                records.append(_Record(number, [_xlsx_cell(value) for value in row]))
    except Exception:
        raise _file_error(filename, unreadable) from None
    finally:
        workbook.close()
    return _interpret_table(records, filename, "xlsx", "row", [])


# --- json --------------------------------------------------------------------------------


def _json_text(value: object, what: str, number: int, problems: list[LineProblem]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_cell(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return clean_cell(str(value))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return clean_cell("; ".join(value))
    problems.append(LineProblem(number, f'"{what}" must be text'))
    return ""


def _read_json(doc: object, filename: str) -> ParsedPlan:
    title: str | None = None
    items: object = doc
    if isinstance(doc, dict):
        raw_title = doc.get("title")
        title = (clean_cell(raw_title) or None) if isinstance(raw_title, str) else None
        items = doc.get("objectives", doc.get("rows"))
        if items is None:
            raise _file_error(
                filename,
                f'{filename} has no "objectives" list: export a plan with '
                "`csp-bot plan export --format json` and import that.",
            )
    if not isinstance(items, list):
        raise _file_error(
            filename,
            f"{filename} is not a plan: it should be a list of objectives, each with "
            'a "title", "action" and "timescale".',
        )
    problems: list[LineProblem] = []
    drafts: list[_Draft] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(
                LineProblem(number, 'this entry is not an object like {"title": "..."}')
            )
            continue
        values: dict[str, str] = {}
        owners: list[str] = []
        for key, value in item.items():
            column = _JSON_KEYS.get(str(key).strip().casefold())
            if column is None or column in values:
                continue  # extra keys (schedule, status, ids...) are not part of the plan
            if column == "owners":
                if isinstance(value, list):
                    for owner in value:
                        owners.extend(
                            o
                            for o in split_owners(_json_text(owner, "owners", number, problems))
                            if o not in owners
                        )
                else:
                    owners = split_owners(_json_text(value, "owners", number, problems))
                values[column] = ""
            else:
                values[column] = _json_text(value, column, number, problems)
        values.pop("owners", None)
        if not values.get("title"):
            problems.append(
                LineProblem(number, 'this entry has no "title"; every objective needs one')
            )
            continue
        drafts.append(_Draft(number, values, owners))
        if len(drafts) > MAX_ROWS:
            problems.append(
                LineProblem(number, f"the plan has more than {MAX_ROWS} rows; split it into files")
            )
            break
    rows = _finish(drafts, problems, 0, filename, "entry")
    return ParsedPlan(title=title, rows=rows, format="json")


def _parse_json(text: str) -> object:
    """The parsed document, or raise ValueError (RecursionError for absurd nesting included)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


# --- entry points ------------------------------------------------------------------------


def read_plan(data: bytes, filename: str) -> ParsedPlan:
    """Read a plan file in any supported format, or raise PlanFileError listing every problem.

    The format comes from the file name's extension, then from the content: a ZIP
    (``PK``) is an Excel workbook, text starting with ``{`` or ``[`` is JSON,
    tab-separated text is the seed table, anything else is CSV.
    """
    name = PurePath(filename).name or "the plan file"
    suffix = PurePath(filename).suffix.casefold()
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(
            name,
            f"{name} is {len(data) // (1024 * 1024)} MB; a plan is far smaller. "
            "Check it is the right file and import it again.",
        )
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise _file_error(
            name,
            f"{name} is an old-style Excel workbook (.xls): save it as .xlsx or as "
            "CSV UTF-8 and import it again.",
        )
    if suffix in {".xlsx", ".xlsm"} or data.startswith(_ZIP_MAGIC):
        if not data.strip():
            raise _file_error(name, _empty_message(name, "seed"))
        return _read_xlsx(data, name)
    text = _decode(data, name)
    if not text.strip():
        raise _file_error(name, _empty_message(name, "seed"))
    if suffix == ".json":
        try:
            doc = _parse_json(text)
        except ValueError as exc:
            raise _file_error(
                name,
                f"{name} is not valid JSON ({exc}): export the plan again with "
                "`csp-bot plan export --format json`, or import it as CSV.",
            ) from None
        return _read_json(doc, name)
    if suffix not in {".csv", ".tsv"} and text.lstrip()[:1] in {"{", "["}:
        try:
            doc = _parse_json(text)
        except ValueError:
            pass  # not JSON after all: read it as a table
        else:
            return _read_json(doc, name)
    if suffix in {".csv", ".tsv"} or "\t" not in text:
        return _read_csv(text, name)
    return _read_seed(text, name)


def _row_values(row: Mapping[str, object] | BaseModel) -> list[str]:
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


def write_plan_csv(
    rows: Sequence[Mapping[str, object] | BaseModel],
    *,
    title: str | None = None,
    bom: bool = False,
) -> str:
    """The plan as CSV text (comma separated, CRLF line ends) that read_plan reads back.

    ``rows`` are mappings (or PlanRow objects) with the keys title, action,
    timescale, progress, owners (a list or a string), statutory_basis. Cells that
    a spreadsheet would run as a formula are prefixed with ``'``. Pass
    ``bom=True`` for a file Excel opens as UTF-8 on double-click.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        writer.writerow([_guard_formula(title)])
    writer.writerow(COLUMN_LABELS.values())
    for row in rows:
        writer.writerow([_guard_formula(value) for value in _row_values(row)])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def write_plan_xlsx(
    rows: Sequence[Mapping[str, object] | BaseModel], *, title: str | None = None
) -> bytes:
    """The plan as an Excel workbook (one sheet, "Plan") that read_plan reads back."""

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
    put(sheet, row_number, list(COLUMN_LABELS.values()), bold=True)
    sheet.freeze_panes = f"A{row_number + 1}"
    for row in rows:
        row_number += 1
        put(sheet, row_number, _row_values(row))
    for letter, width in zip("ABCDEF", (32, 70, 32, 32, 24, 36), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the shipped seed --------------------------------------------------------------------

#: Statutory basis of the seed's objectives (see the project's domain notes).
SEED_STATUTORY_BASIS: dict[str, str] = {
    "Strategic Assessment": (
        "Crime and Disorder Act 1998 s.6; Crime and Disorder (Formulation and "
        "Implementation of Strategy) Regulations 2007 (assessment yearly)"
    ),
    "Partnership Plan": (
        "Crime and Disorder Act 1998 s.6; Crime and Disorder (Formulation and "
        "Implementation of Strategy) Regulations 2007; plan sent to the Police and Crime "
        "Commissioner, with regard to the Police and Crime Plan (s.6(1A))"
    ),
    "Overview and Scrutiny Committee": (
        "Police and Justice Act 2006 s.19 (crime and disorder committee)"
    ),
    "Strategic management of partnership functions": (
        "Responsible Authorities Group (Crime and Disorder Act 1998 s.5); quarterly by "
        "local practice"
    ),
    "Domestic Homicide Reviews": "Domestic Violence, Crime and Victims Act 2004 s.9",
    "PREVENT": (
        "Counter-Terrorism and Security Act 2015 s.26 (due regard) and s.36 (Channel panels)"
    ),
    "Human Slavery/Trafficking": "Modern Slavery Act 2015 s.52 (duty to notify the Home Office)",
    "Female Genital Mutilation": (
        "Female Genital Mutilation Act 2003 s.5B (known cases in under-18s reported to police)"
    ),
    "Safeguarding": "Children Act 2004 s.11; Care Act 2014 s.42",
    "Child Sexual Exploitation": (
        "Child protection duties; Essex CSE and Missing Arrangements (MACE meetings)"
    ),
    "Reducing Reoffending": (
        "Policing and Crime Act 2009 s.108; Integrated Offender Management; Drug Testing on "
        "Arrest (PACE s.63B)"
    ),
}


def seed_plan_bytes() -> bytes:
    """The seed plan shipped with the bot (the Maldon CSP statutory functions table)."""
    return resources.files("bot").joinpath("data").joinpath(SEED_PLAN_RESOURCE).read_bytes()


def load_seed_plan(*, with_statutory_basis: bool = True) -> ParsedPlan:
    """The shipped seed plan, parsed; by default each objective gets its statutory basis."""
    plan = read_plan(seed_plan_bytes(), SEED_PLAN_RESOURCE)
    if with_statutory_basis:
        for row in plan.rows:
            if row.statutory_basis is None:
                row.statutory_basis = SEED_STATUTORY_BASIS.get(row.title)
    return plan
