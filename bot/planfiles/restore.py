"""Restoring what our JSON export carries beyond the table: status, RAG, done marks, history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from bot.plan.actions import roll_up
from bot.planfiles.queries import has_progress
from store.models import Action, Objective, ObjectiveStatus, ProgressEntry, Rag


def json_extras(data: bytes) -> dict[str, dict[str, Any]]:
    """Progress history, status and RAG from our own JSON export, keyed by title."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    items = doc.get("objectives", []) if isinstance(doc, dict) else doc
    extras: dict[str, dict[str, Any]] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("title"), str):
                extras[item["title"].strip()] = item
    if isinstance(doc, dict) and isinstance(doc.get("plan_year"), int):
        extras["\0plan_year"] = {"plan_year": doc["plan_year"]}
    return extras


def _restore_meetings(session: Session, objective: Objective, meetings: object) -> None:
    """Dates, times and places an admin set, from our JSON export (never overwriting one
    already set here)."""
    if not isinstance(meetings, list):
        return
    by_key = {(m.body, m.month.isoformat()): m for m in objective.meetings}
    for item in meetings:
        if not isinstance(item, dict) or not item.get("date"):
            continue
        meeting = by_key.get((str(item.get("body")), str(item.get("month"))))
        if meeting is None or meeting.meeting_date is not None:
            continue
        meeting.meeting_date = dt.date.fromisoformat(item["date"])
        if item.get("time"):
            meeting.start_time = dt.time.fromisoformat(item["time"])
        meeting.place = item.get("place") or meeting.place
    session.flush()


def restore_extras(session: Session, objective: Objective, extra: dict[str, Any]) -> int:
    """Status, RAG, done marks and progress history from our JSON export (only into an
    objective that has no history yet, so re-imports never duplicate entries): each
    action's from its entry in ``actions``, or (an export of one action, or from before
    actions) the objective's own into its first action."""
    raw = extra.get("actions")
    per_action = [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
    if len(per_action) < 2:
        per_action = [extra]
    _restore_meetings(session, objective, extra.get("meetings"))
    has_history = has_progress(session, objective.id)
    count = 0
    for action, source in zip(objective.actions, per_action, strict=False):
        count += _restore_action(session, objective, action, source, has_history)
    roll_up(objective)
    session.flush()
    return count


def _restore_action(
    session: Session,
    objective: Objective,
    action: Action,
    extra: dict[str, Any],
    has_history: bool,
) -> int:
    if extra.get("status") in {s.value for s in ObjectiveStatus}:
        action.status = ObjectiveStatus(extra["status"])
    if extra.get("rag") in {r.value for r in Rag}:
        action.rag = Rag(extra["rag"])
    done_marks = {
        (s.get("kind"), s.get("due_on"), s.get("body")): s.get("done_at")
        for s in extra.get("schedule", [])
        if isinstance(s, dict) and s.get("done_at")
    }
    for item in action.schedule:
        mark = done_marks.get(
            (item.kind, item.due_on.isoformat() if item.due_on else None, item.body)
        )
        if mark and item.done_at is None:
            item.done_at = dt.datetime.fromisoformat(mark)
    history = extra.get("progress_history") or []
    if has_history or not isinstance(history, list):
        return 0
    count = 0
    for entry in history:
        if not isinstance(entry, dict) or "at" not in entry:
            continue
        session.add(
            ProgressEntry(
                objective_id=objective.id,
                action_id=action.id,
                slack_user_id=entry.get("slack_user_id"),
                author=str(entry.get("author") or "imported"),
                created_at=dt.datetime.fromisoformat(entry["at"]),
                rag=Rag(entry["rag"]) if entry.get("rag") in {r.value for r in Rag} else None,
                done=bool(entry.get("done")),
                note=str(entry.get("note") or ""),
                as_of=dt.date.fromisoformat(entry["as_of"]) if entry.get("as_of") else None,
                evidence_url=entry.get("evidence_url"),
            )
        )
        count += 1
    return count
