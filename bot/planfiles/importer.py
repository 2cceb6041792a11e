"""Import, export and roll over the plan.

Import is all or nothing: the file is read whole (``bot.planfiles.formats``) before any
row is written, and the caller's session scope commits once. Re-importing the
same file changes nothing; an edited file updates objectives in place (matched
by title) and keeps their progress history.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.errors import UserError
from bot.plan import readcache
from bot.plan.queries import current_objectives_query
from bot.plan.years import current_plan_year, local_today, plan_year_label
from bot.planfiles.formats import (
    ParsedPlan,
    PlanRow,
    load_seed_plan,
    read_plan,
    write_plan_csv,
    write_plan_xlsx,
)
from bot.settings import Settings
from bot.time.timescale import Timescale, parse_timescale
from bot.time.workdays import default_calendar
from store.models import (
    Meeting,
    Objective,
    ObjectiveOwner,
    ObjectiveStatus,
    Partnership,
    ProgressEntry,
    Rag,
    ScheduleItem,
    ScheduleKind,
)

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")
_YEAR = re.compile(r"(?<!\d)(19|20)(\d\d)(?!\d)")


@dataclass
class ImportReport:
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


# --------------------------------------------------------------------------- schedules


def parse_for_plan(text: str, plan_year: int | None = None) -> Timescale:
    return parse_timescale(text, calendar=default_calendar(), reference_year=plan_year)


def _schedule_rows(timescale: Timescale) -> list[ScheduleItem]:
    items: list[ScheduleItem] = []
    position = 0
    if timescale.ongoing:
        items.append(
            ScheduleItem(position=position, kind=ScheduleKind.ONGOING, source_text="Ongoing")
        )
        position += 1
    for milestone in timescale.milestones:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind(milestone.kind),
                body=milestone.body,
                due_on=milestone.due_on,
                month_only=milestone.month_only,
                source_text=milestone.label,
            )
        )
        position += 1
    for recurrence in timescale.recurrences:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind.RECURRING,
                body=recurrence.body,
                due_on=recurrence.dtstart,
                month_only=recurrence.roll == "previous_working_day",
                rrule=recurrence.rrule,
                source_text=recurrence.label,
            )
        )
        position += 1
    if timescale.unparsed:
        items.append(
            ScheduleItem(
                position=position,
                kind=ScheduleKind.UNPARSED,
                source_text=timescale.original,
            )
        )
    return items


def _apply_schedule(
    session: Session, partnership: Partnership, objective: Objective, timescale: Timescale
) -> None:
    objective.schedule.clear()
    session.flush()
    objective.schedule.extend(_schedule_rows(timescale))
    objective.needs_dating = timescale.unparsed or timescale.flag is not None
    wanted = {(slot.body, slot.month) for slot in timescale.meetings}
    for old in list(objective.meetings):
        if (old.body, old.month) not in wanted and old.meeting_date is None:
            session.delete(old)
    session.flush()
    for body, month in sorted(wanted, key=lambda pair: (pair[1], pair[0])):
        meeting: Meeting | None = session.scalars(
            select(Meeting).where(
                Meeting.partnership_id == partnership.id,
                Meeting.body == body,
                Meeting.month == month,
            )
        ).one_or_none()
        if meeting is None:
            meeting = Meeting(partnership_id=partnership.id, body=body, month=month)
            session.add(meeting)
        meeting.objective_id = objective.id
    session.flush()
    session.refresh(objective, attribute_names=["meetings"])


# --------------------------------------------------------------------------- import


def infer_plan_year(rows: Sequence[PlanRow]) -> int | None:
    """The earliest year the timescales name, if any."""
    years = [int(m.group(1) + m.group(2)) for row in rows for m in _YEAR.finditer(row.timescale)]
    return min(years) if years else None


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


def _year_exists(session: Session, partnership: Partnership, year: int) -> bool:
    found = session.scalars(
        select(Objective.id)
        .where(Objective.partnership_id == partnership.id, Objective.plan_year == year)
        .limit(1)
    ).first()
    return found is not None


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
    parsed = read_plan(data, filename)
    extras = _json_extras(data) if parsed.format == "json" else {}
    return apply_plan(session, partnership, parsed, now=now, plan_year=plan_year, extras=extras)


def _json_extras(data: bytes) -> dict[str, dict[str, Any]]:
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


def apply_plan(
    session: Session,
    partnership: Partnership,
    parsed: ParsedPlan,
    *,
    now: dt.datetime,
    plan_year: int | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
) -> ImportReport:
    extras = extras or {}
    has_objectives = (
        session.scalars(
            select(Objective.id).where(Objective.partnership_id == partnership.id).limit(1)
        ).first()
        is not None
    )
    inferred = infer_plan_year(parsed.rows)
    if inferred is not None and has_objectives and not _year_exists(session, partnership, inferred):
        inferred = None  # dates in an edited file do not start a new plan year by themselves
    year = (
        plan_year
        or extras.get("\0plan_year", {}).get("plan_year")
        or inferred
        or (partnership.plan_year if has_objectives else None)
        or current_plan_year(local_today(partnership, now))
    )
    if not has_objectives:
        partnership.plan_year = year
    report = ImportReport(plan_year=year)
    existing = {
        o.title.strip().lower(): o
        for o in session.scalars(
            select(Objective)
            .where(Objective.partnership_id == partnership.id, Objective.plan_year == year)
            .options(
                selectinload(Objective.owners),
                selectinload(Objective.schedule),
                selectinload(Objective.meetings),
            )
        )
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
            _apply_schedule(session, partnership, objective, parse_for_plan(row.timescale, year))
            report.created.append(objective.title)
            if extra:
                report.progress_restored += _restore_extras(session, objective, extra)
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
                _apply_schedule(
                    session, partnership, objective, parse_for_plan(row.timescale, year)
                )
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
            restored = _restore_extras(session, objective, extra) if extra else 0
            report.progress_restored += restored
            if changed or reordered or restored or _state(objective) != before:
                # Stamp it so cached read models of the plan are refreshed.
                readcache.touch(session, objective, now)
        if objective.needs_dating:
            report.needs_dating.append(objective.title)
    report.not_in_file = [o.title for k, o in existing.items() if k not in seen]
    session.flush()
    return report


def _state(objective: Objective) -> tuple[object, ...]:
    """What restoring extras can change on an existing objective."""
    return (objective.status, objective.rag, tuple(i.done_at for i in objective.schedule))


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


def _restore_extras(session: Session, objective: Objective, extra: dict[str, Any]) -> int:
    """Status, RAG, done marks and progress history from our JSON export (only into an
    objective that has no history yet, so re-imports never duplicate entries)."""
    if extra.get("status") in {s.value for s in ObjectiveStatus}:
        objective.status = ObjectiveStatus(extra["status"])
    if extra.get("rag") in {r.value for r in Rag}:
        objective.rag = Rag(extra["rag"])
    done_marks = {
        (s.get("kind"), s.get("due_on"), s.get("body")): s.get("done_at")
        for s in extra.get("schedule", [])
        if isinstance(s, dict) and s.get("done_at")
    }
    for item in objective.schedule:
        mark = done_marks.get(
            (item.kind, item.due_on.isoformat() if item.due_on else None, item.body)
        )
        if mark and item.done_at is None:
            item.done_at = dt.datetime.fromisoformat(mark)
    _restore_meetings(session, objective, extra.get("meetings"))
    history = extra.get("progress_history") or []
    has_history = (
        session.scalars(
            select(ProgressEntry.id).where(ProgressEntry.objective_id == objective.id).limit(1)
        ).first()
        is not None
    )
    if has_history or not isinstance(history, list):
        return 0
    count = 0
    for entry in history:
        if not isinstance(entry, dict) or "at" not in entry:
            continue
        session.add(
            ProgressEntry(
                objective_id=objective.id,
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
    session.flush()
    return count


def load_seed_if_empty(session: Session, settings: Settings, *, now: dt.datetime) -> int:
    """Load the bundled seed plan into an empty database and roll it forward to the
    current plan year, so its dates are live. Returns objectives loaded (0: not empty)."""
    from bot.plan.members import ensure_partnership

    partnership = ensure_partnership(session, settings, now=now)
    if (
        session.scalars(
            select(Objective.id).where(Objective.partnership_id == partnership.id).limit(1)
        ).first()
        is not None
    ):
        return 0
    report = apply_plan(session, partnership, load_seed_plan(), now=now)
    target = current_plan_year(local_today(partnership, now))
    if target > report.plan_year:
        rollover(session, partnership, target, now=now)
    return len(report.created)


# --------------------------------------------------------------------------- export


def export_document(session: Session, partnership: Partnership) -> dict[str, Any]:
    """The current plan year as a plain document (stable order, ISO dates)."""
    objectives = session.scalars(current_objectives_query(partnership, with_progress=True)).all()
    return {
        "partnership": partnership.name,
        "plan_year": partnership.plan_year,
        "timezone": partnership.timezone,
        "objectives": [_export_objective(o) for o in objectives],
    }


def _iso(value: dt.date | dt.datetime | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _export_objective(objective: Objective) -> dict[str, Any]:
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
        "schedule": [
            {
                "kind": item.kind,
                "due_on": _iso(item.due_on),
                "month_only": item.month_only,
                "body": item.body,
                "rrule": item.rrule,
                "label": item.source_text,
                "done_at": _iso(item.done_at),
            }
            for item in objective.schedule
        ],
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
        "progress_history": [
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
            for p in sorted(objective.progress, key=lambda p: (p.created_at, p.id))
        ],
    }


def _flat_rows(document: dict[str, Any]) -> list[dict[str, object]]:
    """One row per objective in the columns `plan import` reads back (the seed's four,
    owners and statutory basis); Progress carries the latest entry when there is one."""
    rows: list[dict[str, object]] = []
    for o in document["objectives"]:
        latest = o["progress_history"][-1] if o["progress_history"] else None
        progress = o["progress"]
        if latest is not None:
            status = latest["rag"] or ("done" if latest["done"] else "")
            progress = f"{latest['at'][:10]} {latest['author']}" + (
                f" ({status})" if status else ""
            )
            progress += f": {latest['note']}" if latest["note"] else ""
        rows.append(
            {
                "title": o["title"],
                "action": o["action"],
                "timescale": o["timescale"],
                "progress": progress,
                "owners": o["owners"],
                "statutory_basis": o["statutory_basis"] or "",
            }
        )
    return rows


ExportFormat = Literal["json", "csv", "xlsx"]


def export_plan(session: Session, partnership: Partnership, fmt: ExportFormat) -> bytes:
    document = export_document(session, partnership)
    if fmt == "json":
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    title = f"{partnership.name}: plan {partnership.plan_year}"
    if fmt == "csv":
        return write_plan_csv(_flat_rows(document), title=title).encode("utf-8")
    return write_plan_xlsx(_flat_rows(document), title=title)


# --------------------------------------------------------------------------- rollover


def shift_text_years(text: str, years: int) -> str:
    return _YEAR.sub(lambda m: str(int(m.group(1) + m.group(2)) + years), text)


@dataclass
class RolloverReport:
    from_year: int
    to_year: int
    objectives: int
    needs_dating: list[str]

    def summary(self) -> str:
        text = (
            f"Started the {plan_year_label(self.to_year)} plan from "
            f"{plan_year_label(self.from_year)}: {self.objectives} objectives, dates moved on "
            f"{self.to_year - self.from_year} year(s), progress starts fresh; the "
            f"{plan_year_label(self.from_year)} plan and its history stay readable."
        )
        if self.needs_dating:
            text += " Needs dating: " + ", ".join(self.needs_dating) + "."
        return text


def rollover(
    session: Session, partnership: Partnership, to_year: int, *, now: dt.datetime
) -> RolloverReport:
    """Start plan year ``to_year`` from the current one: years in each timescale move on
    (so month deadlines land on that year's last working day), recurring items carry over,
    owners carry over, progress starts fresh, the old year stays as history."""
    from_year = partnership.plan_year
    if to_year <= from_year:
        raise UserError(
            f"The current plan year is {from_year}; roll over to a later year, "
            f"e.g. `csp-bot plan rollover --year {from_year + 1}`."
        )
    exists = session.scalars(
        select(Objective.id)
        .where(Objective.partnership_id == partnership.id, Objective.plan_year == to_year)
        .limit(1)
    ).first()
    if exists is not None:
        raise UserError(f"A {to_year} plan already exists; nothing was changed.")
    years = to_year - from_year
    old = session.scalars(
        select(Objective)
        .where(Objective.partnership_id == partnership.id, Objective.plan_year == from_year)
        .order_by(Objective.position, Objective.id)
        .options(selectinload(Objective.owners))
    ).all()
    report = RolloverReport(from_year, to_year, 0, [])
    for source in old:
        text = shift_text_years(source.timescale_text, years)
        fresh = Objective(
            partnership_id=partnership.id,
            plan_year=to_year,
            position=source.position,
            title=source.title,
            action_text=source.action_text,
            timescale_text=text,
            statutory_basis=source.statutory_basis,
            status=ObjectiveStatus.OPEN,
            needs_dating=False,
            imported_progress=None,
            created_at=now,
            updated_at=now,
        )
        session.add(fresh)
        session.flush()
        fresh.owners.extend(
            ObjectiveOwner(label=o.label, slack_user_id=o.slack_user_id) for o in source.owners
        )
        _apply_schedule(session, partnership, fresh, parse_for_plan(text, to_year))
        report.objectives += 1
        if fresh.needs_dating:
            report.needs_dating.append(fresh.title)
    partnership.plan_year = to_year
    session.flush()
    return report
