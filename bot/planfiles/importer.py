"""Plan import: a read plan file written into its plan year in place, all or nothing.

The file is read whole (``bot.planfiles.read``) before any row is written, and the
caller's session scope commits once. Re-importing the same file changes nothing; an
edited file updates objectives in place (matched by title; their actions by their
text, then their place under it) and keeps their progress history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from bot.plan import readcache
from bot.plan.actions import add_action, roll_up
from bot.plan.catch_up import mark_catch_up
from bot.plan.years import current_plan_year, local_today
from bot.planfiles.queries import has_objectives, objectives_to_import_into, plan_year_exists
from bot.planfiles.read import read_plan
from bot.planfiles.report import FIELD_LABELS, ImportReport, ObjectiveOutcome
from bot.planfiles.restore import json_extras, restore_extras
from bot.planfiles.schedules import MeetingIndex, apply_schedule, link_meetings, parse_for_plan
from bot.planfiles.table import ParsedPlan, PlanRow, rag_from_status
from bot.planfiles.years import YearChoice, choose_plan_year
from bot.time.timescale.model import Timescale
from store.models import Action, Objective, ObjectiveOwner, ObjectiveStatus, Partnership

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")


def _owner_rows(owners: Sequence[str]) -> list[ObjectiveOwner]:
    result = []
    seen: set[str] = set()
    for raw in owners:
        label = raw.strip()
        if not label or label in seen:
            continue
        seen.add(label)
        match = _MENTION.match(label)
        user_id = (match.group(1) or match.group(2)) if match else None
        result.append(ObjectiveOwner(label=label, slack_user_id=user_id))
    return result


def _owner_labels(action: Action) -> list[str]:
    return [o.label for o in action.owners]


def import_plan_bytes(
    session: Session,
    partnership: Partnership,
    data: bytes,
    filename: str,
    *,
    now: dt.datetime,
    plan_year: int | None = None,
) -> ImportReport:
    """Read a plan file whole, then import it (nothing is written if it cannot be read)."""
    parsed = read_plan(data, filename)
    extras = json_extras(data) if parsed.format == "json" else {}
    return apply_plan(
        session,
        partnership,
        parsed,
        now=now,
        plan_year=plan_year,
        extras=extras,
        filename=PurePath(filename).name or "the plan file",
    )


def _choose_year(
    session: Session,
    partnership: Partnership,
    parsed: ParsedPlan,
    filename: str,
    *,
    now: dt.datetime,
    asked: int | None,
    exported: int | None,
    any_objectives: bool,
) -> YearChoice:
    return choose_plan_year(
        filename=filename,
        asked=asked,
        exported=exported,
        title=parsed.title,
        timescales=[row.timescale for row in parsed.rows],
        today_year=current_plan_year(local_today(partnership, now)),
        current=partnership.plan_year if any_objectives else None,
        year_exists=lambda year: plan_year_exists(session, partnership.id, year),
    )


def apply_plan(
    session: Session,
    partnership: Partnership,
    parsed: ParsedPlan,
    *,
    now: dt.datetime,
    plan_year: int | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
    filename: str = "the plan file",
) -> ImportReport:
    """Write a read plan into its plan year (``bot.planfiles.years.choose_plan_year``):
    objectives matched by title are updated in place (their history kept), new ones
    added, ones not in the file left as they are. Raises UserError, writing nothing,
    if the file is the plan of a year that has not begun and ``plan_year`` is not given."""
    extras = extras or {}
    any_objectives = has_objectives(session, partnership.id)
    choice = _choose_year(
        session,
        partnership,
        parsed,
        filename,
        now=now,
        asked=plan_year,
        exported=extras.get("\0plan_year", {}).get("plan_year"),
        any_objectives=any_objectives,
    )
    year = choice.year
    report = ImportReport(
        plan_year=year,
        reason=choice.reason,
        kept_columns=list(parsed.kept_columns),
        status_column=parsed.status_column,
        title_block=parsed.title if parsed.format in ("csv", "xlsx") else None,
    )
    existing = {
        o.title.strip().lower(): o for o in objectives_to_import_into(session, partnership.id, year)
    }
    # Everything is read and worked out before the first write, and written in one
    # flush at the end, so the database's write lock is held only for that flush and
    # the commit (other requests wait at most that long, see store.db.bounded_waits).
    prepared = _Prepared(
        meetings=MeetingIndex(session, partnership.id),
        readings={t: parse_for_plan(t, year) for t in {r.timescale for r in parsed.rows}},
    )
    with session.no_autoflush:
        if not any_objectives:
            partnership.plan_year = year
        _apply_rows(session, partnership, parsed, year, existing, extras, prepared, now, report)
        if report.created or report.updated:
            mark_catch_up(partnership, now)  # what is overdue in the new plan is summarised once
    session.flush()
    return report


@dataclass(frozen=True)
class _Prepared:
    """What an import works out before it writes: meetings by month, each cell's reading."""

    meetings: MeetingIndex
    readings: dict[str, Timescale]


def _apply_rows(
    session: Session,
    partnership: Partnership,
    parsed: ParsedPlan,
    year: int,
    existing: dict[str, Objective],
    extras: dict[str, dict[str, Any]],
    prepared: _Prepared,
    now: dt.datetime,
    report: ImportReport,
) -> None:
    """The objectives of ``parsed`` applied to the session, not flushed (see apply_plan)."""
    seen: set[str] = set()
    for position, rows in enumerate(parsed.objectives()):
        head = rows[0]
        key = head.title.strip().lower()
        seen.add(key)
        objective = existing.get(key)
        extra = extras.get(head.title.strip(), {})
        if objective is None:
            objective = _create(session, partnership, rows, year, position, now, prepared)
            report.outcomes.append(ObjectiveOutcome(objective.title, "added", actions=len(rows)))
            if extra:
                report.progress_restored += restore_extras(session, objective, extra)
        else:
            reordered = objective.position != position
            objective.position = position
            fields = _update(session, partnership, objective, rows, now, parsed, prepared)
            outcome = ObjectiveOutcome(
                objective.title,
                "updated" if fields else "unchanged",
                tuple(fields),
                actions=len(objective.actions),
            )
            report.outcomes.append(outcome)
            before = _state(objective)
            restored = restore_extras(session, objective, extra) if extra else 0
            report.progress_restored += restored
            if fields or reordered or restored or _state(objective) != before:
                # Stamp it so cached read models of the plan are refreshed.
                readcache.touch(session, objective, now)
        several = len(objective.actions) > 1
        report.needs_dating.extend(
            f"{objective.title} {action.position}" if several else objective.title
            for action in objective.actions
            if action.needs_dating and action.status == ObjectiveStatus.OPEN
        )
    report.outcomes.extend(
        ObjectiveOutcome(o.title, "not in file") for k, o in existing.items() if k not in seen
    )


def _reading(prepared: _Prepared, text: str, year: int) -> Timescale:
    found = prepared.readings.get(text)
    if found is None:  # an action no longer in the file: read what it holds
        found = prepared.readings[text] = parse_for_plan(text, year)
    return found


def _link(session: Session, objective: Objective, prepared: _Prepared, year: int) -> None:
    readings = [_reading(prepared, a.timescale_text, year) for a in objective.actions]
    link_meetings(session, objective, readings, prepared.meetings)


def _create(
    session: Session,
    partnership: Partnership,
    rows: Sequence[PlanRow],
    year: int,
    position: int,
    now: dt.datetime,
    prepared: _Prepared,
) -> Objective:
    head = rows[0]
    objective = Objective(
        partnership_id=partnership.id,
        plan_year=year,
        position=position,
        title=head.title.strip(),
        statutory_basis=next((r.statutory_basis for r in rows if r.statutory_basis), None),
        status=ObjectiveStatus.OPEN,
        needs_dating=False,
        created_at=now,
        updated_at=now,
    )
    session.add(objective)
    for row in rows:
        _new_action(session, partnership, objective, row, now, prepared)
    roll_up(objective)
    _link(session, objective, prepared, year)
    return objective


def _new_action(
    session: Session,
    partnership: Partnership,
    objective: Objective,
    row: PlanRow,
    now: dt.datetime,
    prepared: _Prepared,
) -> Action:
    action = add_action(objective, text=row.action, timescale_text=row.timescale, now=now)
    action.imported_progress = row.progress or None
    action.file_columns = dict(row.columns) or None
    action.rag = rag_from_status(row.status)
    action.owners.extend(_owner_rows(row.owners))
    apply_schedule(session, partnership, action, prepared.readings[row.timescale], now=now)
    return action


def _update(
    session: Session,
    partnership: Partnership,
    objective: Objective,
    rows: Sequence[PlanRow],
    now: dt.datetime,
    parsed: ParsedPlan,
    prepared: _Prepared,
) -> list[str]:
    """Bring ``objective`` and its actions in line with ``rows``; the labels of what changed
    ("Timescale", or "Timescale (action 2)" once the objective has several actions)."""
    changed: list[str] = []
    basis = next((r.statutory_basis for r in rows if r.statutory_basis is not None), None)
    if basis is not None and basis != objective.statutory_basis:  # a file without it keeps ours
        objective.statutory_basis = basis
        changed.append(FIELD_LABELS["statutory_basis"])
    several = max(len(rows), len(objective.actions)) > 1
    matched = _match_actions(objective.actions, rows)
    kept = [a for a in objective.actions if a not in matched]
    for number, (row, action) in enumerate(zip(rows, matched, strict=True), start=1):
        if action is None:
            action = _new_action(session, partnership, objective, row, now, prepared)
            changed.append(f"action {number} added")
        else:
            fields = _update_action(session, partnership, action, row, now, parsed, prepared)
            if action.position != number:
                fields.insert(0, f"moved from {action.position}")
            changed.extend(f"{name} (action {number})" if several else name for name in fields)
        action.position = number
    for extra, action in enumerate(kept, start=len(rows) + 1):
        action.position = extra
        changed.append(f"action {extra} no longer in the file (kept)")
    objective.actions.sort(key=lambda a: a.position)
    roll_up(objective)
    _link(session, objective, prepared, objective.plan_year)
    return changed


def _match_actions(actions: Sequence[Action], rows: Sequence[PlanRow]) -> list[Action | None]:
    """The stored action each row is (None: a new one): the one with the row's text,
    else the one at the row's place that no other row took."""
    free = list(actions)
    found: list[Action | None] = []
    for row in rows:
        same = next((a for a in free if a.text == row.action), None)
        if same is not None:
            free.remove(same)
        found.append(same)
    for number, action in enumerate(found, start=1):
        if action is None:
            at = next((a for a in free if a.position == number), None)
            if at is not None:
                free.remove(at)
                found[number - 1] = at
    return found


def _update_action(
    session: Session,
    partnership: Partnership,
    action: Action,
    row: PlanRow,
    now: dt.datetime,
    parsed: ParsedPlan,
    prepared: _Prepared,
) -> list[str]:
    """Bring ``action`` in line with ``row``; the labels of the fields that changed."""
    changed: list[str] = []
    updates: list[tuple[str, str, object]] = [
        ("action", "text", row.action),
        ("progress", "imported_progress", row.progress or None),
    ]
    for name, attr, value in updates:
        if getattr(action, attr) != value:
            setattr(action, attr, value)
            changed.append(FIELD_LABELS[name])
    if row.timescale != action.timescale_text:
        action.timescale_text = row.timescale
        reading = prepared.readings[row.timescale]
        apply_schedule(session, partnership, action, reading, now=now)
        changed.append(FIELD_LABELS["timescale"])
    if row.owners and [o.strip() for o in row.owners if o.strip()] != _owner_labels(action):
        action.owners.clear()
        session.flush()
        action.owners.extend(_owner_rows(row.owners))
        changed.append(FIELD_LABELS["owners"])
    before = dict(action.file_columns or {})
    if row.columns:  # a file without those columns keeps what we have
        after = {**before, **row.columns}
        moved = [label for label in after if before.get(label) != after.get(label)]
        if moved:
            action.file_columns = after
            changed.extend(moved)
        if parsed.status_column is not None and parsed.status_column in moved:
            rag = rag_from_status(row.status)
            if rag is not None and rag != action.rag:
                action.rag = rag
                changed.append(FIELD_LABELS["rag"])
    if changed:
        action.updated_at = now
    return list(dict.fromkeys(changed))  # a "RAG" column is both a kept cell and the RAG


def _state(objective: Objective) -> tuple[object, ...]:
    """What restoring extras can change on an existing objective."""
    return (objective.status, objective.rag, tuple(i.done_at for i in objective.schedule))
