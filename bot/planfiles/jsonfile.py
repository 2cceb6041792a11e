"""JSON plan files: the bot's own export, a list of objects or ``{"objectives": [...]}``."""

from __future__ import annotations

import json

from bot.planfiles.interpret import MAX_ROWS, Draft, finish
from bot.planfiles.table import LineProblem, ParsedPlan, clean_cell, file_error, split_owners

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


def read_json(doc: object, filename: str) -> ParsedPlan:
    title: str | None = None
    items: object = doc
    if isinstance(doc, dict):
        raw_title = doc.get("title")
        title = (clean_cell(raw_title) or None) if isinstance(raw_title, str) else None
        items = doc.get("objectives", doc.get("rows"))
        if items is None:
            raise file_error(
                filename,
                f'{filename} has no "objectives" list: export a plan with '
                "`csp-bot plan export --format json` and import that.",
            )
    if not isinstance(items, list):
        raise file_error(
            filename,
            f"{filename} is not a plan: it should be a list of objectives, each with "
            'a "title", "action" and "timescale".',
        )
    problems: list[LineProblem] = []
    drafts: list[Draft] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(
                LineProblem(number, 'this entry is not an object like {"title": "..."}')
            )
            continue
        values: dict[str, str] = {}
        owners: list[str] = []
        kept = _kept_columns(item.get("columns"), number, problems)
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
        actions = item.get("actions")
        if isinstance(actions, list) and len(actions) > 1:
            # Our export of an objective with several actions: a row for each.
            for action in actions:
                if isinstance(action, dict):
                    drafts.append(_action_draft(number, values, action, problems))
        else:
            drafts.append(Draft(number, values, owners, kept))
        if len(drafts) > MAX_ROWS:
            problems.append(
                LineProblem(number, f"the plan has more than {MAX_ROWS} rows; split it into files")
            )
            break
    rows = finish(drafts, problems, 0, filename, "entry")
    kept_columns: list[str] = []
    for row in rows:
        kept_columns.extend(label for label in row.columns if label not in kept_columns)
    return ParsedPlan(title=title, rows=rows, format="json", kept_columns=kept_columns)


def _action_draft(
    number: int, objective: dict[str, str], action: dict[str, object], problems: list[LineProblem]
) -> Draft:
    """One action of an objective in our own export, as a row under the objective's title."""
    values = {"title": objective["title"]}
    if objective.get("statutory_basis"):
        values["statutory_basis"] = objective["statutory_basis"]
    for key in ("action", "timescale", "progress"):
        values[key] = _json_text(action.get(key), key, number, problems)
    owners: list[str] = []
    raw = action.get("owners")
    for owner in raw if isinstance(raw, list) else []:
        owners.extend(
            o
            for o in split_owners(_json_text(owner, "owners", number, problems))
            if o not in owners
        )
    kept = _kept_columns(action.get("columns"), number, problems)
    return Draft(number, values, owners, kept)


def _kept_columns(value: object, number: int, problems: list[LineProblem]) -> dict[str, str]:
    """The "columns" of an exported objective: headings to cells the bot does not use."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(LineProblem(number, '"columns" must map column headings to text'))
        return {}
    kept: dict[str, str] = {}
    for label, cell in value.items():
        heading = clean_cell(str(label))
        if heading:
            kept[heading] = _json_text(cell, f"columns: {heading}", number, problems)
    return kept


def parse_json(text: str) -> object:
    """The parsed document, or raise ValueError (RecursionError for absurd nesting included)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
