"""Plan import: a read plan file written into its plan year in place, all or nothing.

The file is read whole (``bot.planfiles.read``) before any row is written, and the
caller's session scope commits once. Re-importing the same file changes nothing; an
edited file updates objectives in place (matched by title) and keeps their progress
history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.plan import readcache
from bot.plan.catch_up import mark_catch_up
from bot.plan.years import current_plan_year, local_today, plan_year_label
from bot.planfiles.queries import has_objectives, objectives_to_import_into, plan_year_exists
from bot.planfiles.read import read_plan
from bot.planfiles.restore import json_extras, restore_extras
from bot.planfiles.schedules import apply_schedule, parse_for_plan
from bot.planfiles.table import ParsedPlan
from bot.planfiles.years import infer_plan_year
from store.models import Objective, ObjectiveOwner, ObjectiveStatus, Partnership

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")


@dataclass
class ImportReport:
    """What an import did, objective by objective (by title)."""

    plan_year: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    needs_dating: list[str] = field(default_factory=list)
    progress_restored: int = 0

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
        ]
        text = f"Plan {plan_year_label(self.plan_year)}: " + ", ".join(parts) + "."
        if self.progress_restored:
            text += f" {self.progress_restored} progress entries restored."
        if self.not_in_file:
            text += (
                f" {len(self.not_in_file)} objective(s) already in the plan were not in the file "
                f"and were left as they are: {', '.join(self.not_in_file)}."
            )
        if self.needs_dating:
            text += (
                " These need a person to set their dates (see `csp-bot plan show`): "
                + ", ".join(self.needs_dating)
                + "."
            )
        return text


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


def _owner_labels(objective: Objective) -> list[str]:
    return [o.label for o in objective.owners]


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
    return apply_plan(session, partnership, parsed, now=now, plan_year=plan_year, extras=extras)


def apply_plan(
    session: Session,
    partnership: Partnership,
    parsed: ParsedPlan,
    *,
    now: dt.datetime,
    plan_year: int | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
) -> ImportReport:
    """Write a read plan into its plan year: objectives matched by title are updated in
    place (their history kept), new ones added, ones not in the file left as they are."""
    extras = extras or {}
    any_objectives = has_objectives(session, partnership.id)
    inferred = infer_plan_year(parsed.rows)
    if (
        inferred is not None
        and any_objectives
        and not plan_year_exists(session, partnership.id, inferred)
    ):
        inferred = None  # dates in an edited file do not start a new plan year by themselves
    year = (
        plan_year
        or extras.get("\0plan_year", {}).get("plan_year")
        or inferred
        or (partnership.plan_year if any_objectives else None)
        or current_plan_year(local_today(partnership, now))
    )
    if not any_objectives:
        partnership.plan_year = year
    report = ImportReport(plan_year=year)
    existing = {
        o.title.strip().lower(): o for o in objectives_to_import_into(session, partnership.id, year)
    }
    seen: set[str] = set()
    for position, row in enumerate(parsed.rows):
        key = row.title.strip().lower()
        seen.add(key)
        objective = existing.get(key)
        extra = extras.get(row.title.strip(), {})
        if objective is None:
            objective = Objective(
                partnership_id=partnership.id,
                plan_year=year,
                position=position,
                title=row.title.strip(),
                action_text=row.action,
                timescale_text=row.timescale,
                statutory_basis=row.statutory_basis,
                imported_progress=row.progress or None,
                status=ObjectiveStatus.OPEN,
                needs_dating=False,
                created_at=now,
                updated_at=now,
            )
            session.add(objective)
            session.flush()
            objective.owners.extend(_owner_rows(row.owners))
            apply_schedule(session, partnership, objective, parse_for_plan(row.timescale, year))
            report.created.append(objective.title)
            if extra:
                report.progress_restored += restore_extras(session, objective, extra)
        else:
            changed = False
            reordered = objective.position != position
            updates: list[tuple[str, object]] = [
                ("position", position),
                ("action_text", row.action),
                ("imported_progress", row.progress or None),
            ]
            if row.statutory_basis is not None:  # a file without the column keeps ours
                updates.append(("statutory_basis", row.statutory_basis))
            for attr, value in updates:
                if getattr(objective, attr) != value:
                    setattr(objective, attr, value)
                    changed = changed or attr != "position"
            if row.timescale != objective.timescale_text:
                objective.timescale_text = row.timescale
                apply_schedule(session, partnership, objective, parse_for_plan(row.timescale, year))
                changed = True
            if row.owners and [o.strip() for o in row.owners if o.strip()] != _owner_labels(
                objective
            ):
                objective.owners.clear()
                session.flush()
                objective.owners.extend(_owner_rows(row.owners))
                changed = True
            if changed:
                report.updated.append(objective.title)
            else:
                report.unchanged.append(objective.title)
            before = _state(objective)
            restored = restore_extras(session, objective, extra) if extra else 0
            report.progress_restored += restored
            if changed or reordered or restored or _state(objective) != before:
                # Stamp it so cached read models of the plan are refreshed.
                readcache.touch(session, objective, now)
        if objective.needs_dating:
            report.needs_dating.append(objective.title)
    report.not_in_file = [o.title for k, o in existing.items() if k not in seen]
    if report.created or report.updated:
        mark_catch_up(partnership, now)  # what is overdue in the new plan is summarised once
    session.flush()
    return report


def _state(objective: Objective) -> tuple[object, ...]:
    """What restoring extras can change on an existing objective."""
    return (objective.status, objective.rag, tuple(i.done_at for i in objective.schedule))
