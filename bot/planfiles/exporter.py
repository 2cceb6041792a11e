"""Plan export: the current plan year as our JSON document, a CSV table, or the workbook."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.plan.workbook import plan_workbook
from bot.plan.years import plan_year_label
from bot.planfiles.csvfile import write_plan_csv
from bot.planfiles.queries import objectives_to_export
from bot.planfiles.workbook import write_workbook
from store.models import Action, Objective, Partnership, ProgressEntry, ScheduleItem


def export_document(session: Session, partnership: Partnership) -> dict[str, Any]:
    """The current plan year as a plain document (stable order, ISO dates)."""
    objectives = objectives_to_export(session, partnership)
    return {
        "partnership": partnership.name,
        "plan_year": partnership.plan_year,
        "timezone": partnership.timezone,
        "objectives": [_export_objective(o) for o in objectives],
    }


def _iso(value: dt.date | dt.datetime | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _export_objective(objective: Objective) -> dict[str, Any]:
    document = _objective_fields(objective)
    if objective.file_columns:  # only plans read with columns we do not use carry them
        document["columns"] = dict(objective.file_columns)
    document["actions"] = [_export_action(a) for a in objective.actions]
    return document


def _export_action(action: Action) -> dict[str, Any]:
    """One action: its own text, lead(s), timescale and schedule, status and history."""
    document: dict[str, Any] = {
        "number": action.position,
        "action": action.text,
        "timescale": action.timescale_text,
        "progress": action.imported_progress or "",
        "owners": [o.label for o in action.owners],
        "status": action.status,
        "rag": action.rag,
        "needs_dating": action.needs_dating,
        "schedule": [_schedule_item(item) for item in action.schedule],
        "progress_history": _history(action.progress),
    }
    if action.file_columns:
        document["columns"] = dict(action.file_columns)
    return document


def _schedule_item(item: ScheduleItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "due_on": _iso(item.due_on),
        "month_only": item.month_only,
        "body": item.body,
        "rrule": item.rrule,
        "label": item.source_text,
        "done_at": _iso(item.done_at),
    }


def _history(entries: Sequence[ProgressEntry]) -> list[dict[str, Any]]:
    return [
        {
            "at": _iso(p.created_at),
            "author": p.author,
            "slack_user_id": p.slack_user_id,
            "rag": p.rag,
            "done": p.done,
            "note": p.note,
            "as_of": _iso(p.as_of),
            "evidence_url": p.evidence_url,
        }
        for p in sorted(entries, key=lambda p: (p.created_at, p.id))
    ]


def _objective_fields(objective: Objective) -> dict[str, Any]:
    return {
        "title": objective.title,
        "action": objective.action_text,
        "timescale": objective.timescale_text,
        "progress": objective.imported_progress or "",
        "owners": [o.label for o in objective.owners],
        "statutory_basis": objective.statutory_basis,
        "status": objective.status,
        "rag": objective.rag,
        "needs_dating": objective.needs_dating,
        "schedule": [_schedule_item(item) for item in objective.schedule],
        "meetings": [
            {
                "body": m.body,
                "month": _iso(m.month),
                "date": _iso(m.meeting_date),
                "time": _iso(m.start_time),
                "place": m.place,
            }
            for m in sorted(objective.meetings, key=lambda m: (m.month, m.body))
        ],
        "progress_history": _history(objective.progress),
    }


def _flat_rows(document: dict[str, Any]) -> list[dict[str, object]]:
    """One row per action in the columns `plan import` reads back (the seed's four,
    owners and statutory basis, then any columns kept from the imported file), the
    objective's title on each of its rows; Progress carries the latest entry when
    there is one."""
    rows: list[dict[str, object]] = []
    for objective in document["objectives"]:
        actions = objective["actions"]
        if len(actions) == 1:  # as the objective always was: its own kept columns
            rows.append(_flat_row(objective, objective))
        else:
            rows.extend(_flat_row(objective, action) for action in actions)
    return rows


def _flat_row(objective: dict[str, Any], o: dict[str, Any]) -> dict[str, object]:
    """The row of one action ``o`` (or of a one-action objective, ``o`` = ``objective``)."""
    latest = o["progress_history"][-1] if o["progress_history"] else None
    progress = o["progress"]
    if latest is not None:
        status = latest["rag"] or ("done" if latest["done"] else "")
        progress = f"{latest['at'][:10]} {latest['author']}" + (f" ({status})" if status else "")
        progress += f": {latest['note']}" if latest["note"] else ""
    return {
        "title": objective["title"],
        "action": o["action"],
        "timescale": o["timescale"],
        "progress": progress,
        "owners": o["owners"],
        "statutory_basis": objective["statutory_basis"] or "",
        "columns": o.get("columns") or {},
    }


ExportFormat = Literal["json", "csv", "xlsx"]


def export_plan(
    session: Session,
    partnership: Partnership,
    fmt: ExportFormat,
    *,
    today: dt.date | None = None,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """The current plan year as a file: our JSON document, a CSV table, or the workbook
    for people (XLSX: needs ``today``, the partnership's local day, for what is next
    and overdue; ``names`` maps Slack ids to display names)."""
    if fmt == "xlsx":
        if today is None:
            raise ValueError("the workbook needs today's date (the partnership's local day)")
        return write_workbook(plan_workbook(session, partnership, today, names or {}))
    document = export_document(session, partnership)
    if fmt == "json":
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    title = f"{partnership.name}: plan {plan_year_label(partnership.plan_year)}"
    return write_plan_csv(_flat_rows(document), title=title).encode("utf-8")
