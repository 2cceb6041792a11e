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
            if last is not None and _starts_an_action(last, values):
                # Another action of the objective above (its cell left blank or merged).
                values["title"] = last.values.get("title", "")
            elif last is not None:
                _continue_row(last, values, kept)  # the row above, split by a page break
                continue
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
            else:
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


_SENTENCE_END = (".", "!", "?", ":", ";", ")")


def _starts_an_action(above: Draft, values: Mapping[str, str]) -> bool:
    """Whether a row with a blank objective is a new action of the objective above
    (rather than the row above carried over a page break). The rest of a sentence
    (lower case, after text that did not end one) continues the row above; otherwise
    a row with a timescale, lead or status of its own, or whose text starts a new
    sentence after one that ended, is a new action."""
    text = values.get("action", "")
    before = above.values.get("action", "").rstrip()
    if text[:1].islower() and before and not before.endswith(_SENTENCE_END):
        return False  # the sentence above goes on
    if values.get("timescale") or values.get("owners") or values.get("status"):
        return True
    if not text or not before:
        return False
    return not text[0].islower() and before.endswith(_SENTENCE_END)


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
        # The same objective on several rows is several actions; the same action twice
        # is a mistake.
        key = "\0".join(
            (title.casefold(), draft.values.get("action", ""), draft.values.get("timescale", ""))
        )
        if key in first_line:
            problems.append(
                LineProblem(
                    draft.line,
                    f'this row repeats {unit} {first_line[key]} (the objective "{title}" '
                    "with the same action and timescale); delete one of the two rows",
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
            f"{filename} has {where} but no objectives: add one row per action "
            "and import it again.",
        )
    return [draft.to_row() for draft in drafts]
