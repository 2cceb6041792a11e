"""The one table interpreter for seed text, CSV and XLSX: header, rows, continuations, checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.planfiles.cells import spell_month_years
from bot.planfiles.table import (
    KEPT,
    USAGE,
    Header,
    LineProblem,
    ParsedPlan,
    PlanFileError,
    PlanFormat,
    PlanRow,
    clean_cell,
    empty_message,
    file_error,
    match_header,
    split_owners,
    unguard_formula,
)

MAX_TITLE_LENGTH = 300  # objective.title is String(300)
MAX_ROWS = 5000


@dataclass
class Record:
    line: int
    cells: list[str]


@dataclass
class Draft:
    line: int
    values: dict[str, str]
    owners: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    def to_row(self) -> PlanRow:
        return PlanRow(
            title=self.values.get("title", ""),
            action=self.values.get("action", ""),
            timescale=self.values.get("timescale", ""),
            progress=self.values.get("progress", ""),
            owners=self.owners,
            statutory_basis=self.values.get("statutory_basis") or None,
            status=self.values.get("status", ""),
            columns=self.columns,
            source_line=self.line,
        )


def interpret_table(
    records: Iterable[Record],
    filename: str,
    fmt: PlanFormat,
    unit: str,
    problems: list[LineProblem],
    *,
    unquote_formulas: bool = False,
) -> ParsedPlan:
    header: Header | None = None
    pre_header: list[tuple[int, list[str]]] = []
    drafts: list[Draft] = []
    last: Draft | None = None  # row a continuation would extend (None after a bad row)
    bad_row_seen = False
    title: str | None = None
    any_text = False

    for record in records:
        cells = [clean_cell(cell) for cell in record.cells]
        if unquote_formulas:
            cells = [unguard_formula(cell) for cell in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        any_text = True
        line = record.line
        if header is None:
            found = match_header(line, cells)
            if found is None:
                pre_header.append((line, cells))
                continue
            header, header_problems = found
            problems.extend(header_problems)
            title = _title_from(pre_header)
            continue
        if cells == header.labels[: len(cells)] and len(cells) > 1:
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
        kept: dict[str, str] = {}
        for cell, column in zip(cells, header.columns, strict=False):
            if column is None or not cell:
                continue
            if column.startswith(KEPT):
                kept[column.removeprefix(KEPT)] = cell
            elif column == "timescale" and fmt != "seed":
                values[column] = spell_month_years(cell)
            else:
                values[column] = cell
                if column == "status":  # kept as written too, to export back
                    kept[header.label_of("status")] = cell
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
                _continue_row(last, values, kept)
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
        last = Draft(line, values, owners, kept)
        drafts.append(last)

    if header is None:
        if not any_text:
            raise file_error(filename, empty_message(filename, fmt))
        raise PlanFileError(
            filename,
            [
                *problems,
                LineProblem(
                    0,
                    f"{filename} has no header row: I could not find a row naming the "
                    f"columns. {USAGE}",
                ),
            ],
        )
    rows = finish(drafts, problems, header.line, filename, unit)
    status = header.label_of("status") if "status" in header.columns else None
    return ParsedPlan(
        title=title, rows=rows, format=fmt, kept_columns=header.kept, status_column=status
    )


def _title_from(pre_header: list[tuple[int, list[str]]]) -> str | None:
    """The title block above the header row: every cell of every row, in order."""
    parts = [cell for _, cells in pre_header for cell in cells if cell]
    return " ".join(parts) or None


def _continue_row(row: Draft, values: Mapping[str, str], kept: Mapping[str, str]) -> None:
    for label, text in kept.items():
        before = row.columns.get(label, "")
        row.columns[label] = f"{before} {text}" if before else text
    for column, text in values.items():
        if column == "owners":
            row.owners.extend(o for o in split_owners(text) if o not in row.owners)
        else:
            before = row.values.get(column, "")
            row.values[column] = f"{before} {text}" if before else text


def finish(
    drafts: list[Draft], problems: list[LineProblem], header_line: int, filename: str, unit: str
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
        raise file_error(
            filename,
            f"{filename} has {where} but no objectives: add one row per objective "
            "and import it again.",
        )
    return [draft.to_row() for draft in drafts]
