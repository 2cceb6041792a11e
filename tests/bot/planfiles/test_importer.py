from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.meetings import set_meeting
from bot.plan.members import Actor
from bot.plan.progress import log_progress
from bot.plan.reading import list_objectives, objective_choices
from bot.planfiles.exporter import export_plan
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.read import read_plan
from bot.planfiles.rollover import rollover
from bot.planfiles.seed import load_seed_if_empty
from bot.planfiles.table import PlanFileError
from bot.settings import Settings
from store.models import (
    Meeting,
    Objective,
    Partnership,
    ProgressEntry,
    Rag,
    Role,
    ScheduleItem,
)
from tests.conftest import NOW
from tests.paths import SEED

D = dt.date
ADMIN = Actor("UADMIN", Role.ADMIN, "Pat Manager")


def _import_seed(session: Session, partnership: Partnership) -> None:
    import_plan_bytes(session, partnership, SEED.read_bytes(), "seed.txt", now=NOW)


def _items(
    session: Session, title: str, year: int = 2016
) -> list[tuple[str, D | None, str | None]]:
    objective = session.scalars(
        select(Objective).where(Objective.title == title, Objective.plan_year == year)
    ).one()
    return [(i.kind, i.due_on, i.body) for i in objective.schedule]


def test_seed_imports_thirteen_objectives_whole(session: Session, partnership: Partnership) -> None:
    _import_seed(session, partnership)
    titles = [title for _, title in objective_choices(session, partnership)]
    assert len(titles) == 13
    assert titles[0] == "Strategic Assessment" and titles[-1] == "Reducing Reoffending"
    assert partnership.plan_year == 2016
    dhr = session.scalars(
        select(Objective).where(Objective.title == "Domestic Homicide Reviews")
    ).one()
    assert dhr.action_text.endswith(
        "Pull together all incidents and information from partner agencies and make "
        "recommendations for future practice."
    )


def test_seed_schedules_are_pinned(session: Session, partnership: Partnership) -> None:
    _import_seed(session, partnership)
    assert _items(session, "Strategic Assessment") == [("deadline", D(2016, 4, 29), None)]
    assert _items(session, "Partnership Plan") == [("deadline", D(2016, 4, 29), None)]
    assert _items(session, "Overview and Scrutiny Committee") == [
        ("deadline", D(2016, 3, 31), "Maldon District Council"),
        ("deadline", D(2016, 10, 31), "Maldon District Council"),
        ("deadline", D(2017, 2, 28), "Chelmsford City Council"),
    ]
    assert _items(session, "Perceptions of crime survey")[0][0] == "recurring"
    assert _items(session, "Public engagement") == [("ongoing", None, None)]
    assert _items(session, "PREVENT") == [
        ("ongoing", None, None),
        ("milestone", D(2016, 3, 31), None),
        ("milestone", D(2016, 5, 31), None),
    ]
    assert _items(session, "Child Sexual Exploitation") == [
        ("ongoing", None, None),
        ("milestone", D(2016, 3, 31), None),
    ]
    meetings = session.execute(
        select(Meeting.body, Meeting.month).order_by(Meeting.body, Meeting.month)
    ).all()
    months = [D(2016, 3, 1), D(2016, 6, 1), D(2016, 9, 1), D(2016, 12, 1), D(2017, 3, 1)]
    assert meetings == [("Maldon Responsible Authorities Group", m) for m in months] + [
        ("One Chelmsford Board", m) for m in months
    ] or meetings == sorted(
        [("Maldon Responsible Authorities Group", m) for m in months]
        + [("One Chelmsford Board", m) for m in months]
    )
    flagged = session.scalars(select(Objective.title).where(Objective.needs_dating)).all()
    assert flagged == []


def test_reimport_same_file_changes_nothing(session: Session, partnership: Partnership) -> None:
    _import_seed(session, partnership)
    before = export_plan(session, partnership, "json")
    stamps = session.execute(select(Objective.id, Objective.updated_at)).all()
    report = import_plan_bytes(
        session, partnership, SEED.read_bytes(), "seed.txt", now=NOW + dt.timedelta(days=1)
    )
    assert report.created == [] and report.updated == [] and len(report.unchanged) == 13
    assert export_plan(session, partnership, "json") == before
    assert session.execute(select(Objective.id, Objective.updated_at)).all() == stamps


def test_edited_file_updates_in_place_and_keeps_history(
    session: Session, partnership: Partnership
) -> None:
    _import_seed(session, partnership)
    (pid, _), *_ = objective_choices(session, partnership)
    log_progress(
        session,
        partnership,
        ADMIN,
        pid,
        rag=Rag.AMBER,
        done=False,
        note="Draft with police",
        now=NOW,
    )
    edited = SEED.read_bytes().replace(b"April 2016\t\nPartnership", b"May 2016\t\nPartnership")
    assert edited != SEED.read_bytes()
    report = import_plan_bytes(session, partnership, edited, "seed.txt", now=NOW)
    assert report.updated == ["Strategic Assessment"]
    assert _items(session, "Strategic Assessment") == [("deadline", D(2016, 5, 31), None)]
    objective = session.get(Objective, pid)
    assert objective is not None and objective.id == pid
    assert [p.note for p in objective.progress] == ["Draft with police"]


def test_bad_file_imports_nothing(session: Session, partnership: Partnership) -> None:
    bad = SEED.read_bytes() + b"\nExtra\ta\tb\tc\td\te"
    with pytest.raises(PlanFileError) as info:
        import_plan_bytes(session, partnership, bad, "seed.txt", now=NOW)
    assert "line" in str(info.value)
    assert session.scalar(select(func.count()).select_from(Objective)) == 0


def test_json_export_round_trips(
    session: Session, partnership: Partnership, plan_settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _import_seed(session, partnership)
    (pid, _), *_ = objective_choices(session, partnership)
    log_progress(
        session, partnership, ADMIN, pid, rag=Rag.GREEN, done=True, note="Published", now=NOW
    )
    set_meeting(
        session,
        partnership,
        ADMIN,
        "One Chelmsford Board",
        D(2016, 6, 14),
        dt.time(10),
        "Hall",
        now=NOW,
    )
    first = export_plan(session, partnership, "json")
    assert '"place": "Hall"' in first.decode()
    doc = json.loads(first)
    assert len(doc["objectives"]) == 13
    assert doc["objectives"][0]["schedule"][0]["due_on"] == "2016-04-29"

    from bot.clock import FixedClock
    from bot.context import build_context
    from bot.plan.members import ensure_partnership
    from bot.settings import load_settings
    from store.db import session_scope
    from tests.dbutil import on_postgres

    if on_postgres():
        pytest.skip("second database needed; covered on SQLite")
    other = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}")
    ctx = build_context(other, clock=FixedClock(NOW))
    with session_scope(ctx.sessions) as s2:
        p2 = ensure_partnership(s2, plan_settings, now=NOW)
        import_plan_bytes(s2, p2, first, "plan.json", now=NOW)
        second = export_plan(s2, p2, "json")
    ctx.engine.dispose()
    assert second == first


def test_rollover_moves_dates_and_starts_progress_fresh(
    session: Session, partnership: Partnership
) -> None:
    _import_seed(session, partnership)
    (pid, _), *_ = objective_choices(session, partnership)
    log_progress(session, partnership, ADMIN, pid, rag=Rag.RED, done=False, note="Late", now=NOW)
    report = rollover(session, partnership, 2026, now=NOW)
    assert report.objectives == 13 and partnership.plan_year == 2026
    assert _items(session, "Strategic Assessment", 2026) == [("deadline", D(2026, 4, 30), None)]
    assert _items(session, "Overview and Scrutiny Committee", 2026) == [
        ("deadline", D(2026, 3, 31), "Maldon District Council"),
        ("deadline", D(2026, 10, 30), "Maldon District Council"),
        ("deadline", D(2027, 2, 26), "Chelmsford City Council"),
    ]
    summaries = list_objectives(session, partnership, D(2026, 11, 26))
    assert len(summaries) == 13 and all(s.rag is None for s in summaries)
    old = session.get(Objective, pid)
    assert old is not None and old.plan_year == 2016 and old.progress[0].note == "Late"
    with pytest.raises(UserError):
        rollover(session, partnership, 2026, now=NOW)


def test_load_seed_if_empty_rolls_to_current_year(
    session: Session, plan_settings: Settings
) -> None:
    assert load_seed_if_empty(session, plan_settings, now=NOW) == 13
    assert load_seed_if_empty(session, plan_settings, now=NOW) == 0
    partnership = session.scalars(select(Partnership)).one()
    assert partnership.plan_year == 2026
    summaries = list_objectives(session, partnership, D(2026, 11, 26))
    survey = next(s for s in summaries if s.title == "Perceptions of crime survey")
    assert survey.next_date == D(2027, 3, 31)
    scrutiny = next(s for s in summaries if s.title == "Overview and Scrutiny Committee")
    assert scrutiny.next_date == D(2027, 2, 26) and scrutiny.overdue
    assert scrutiny.overdue_since == D(2026, 3, 31)
    rag_group = next(s for s in summaries if s.title.startswith("Strategic management"))
    assert rag_group.next_date == D(2026, 12, 1)


def test_done_closes_the_nearest_deadline(session: Session, plan_settings: Settings) -> None:
    load_seed_if_empty(session, plan_settings, now=NOW)
    partnership = session.scalars(select(Partnership)).one()
    scrutiny = next(
        s
        for s in list_objectives(session, partnership, D(2026, 11, 26))
        if s.title == "Overview and Scrutiny Committee"
    )
    summary = log_progress(
        session,
        partnership,
        ADMIN,
        scrutiny.id,
        rag=None,
        done=True,
        note="Reported in March",
        now=NOW,
    )
    # The oldest open deadline (March) is met; October is still overdue, February ahead.
    assert summary.overdue and summary.overdue_since == D(2026, 10, 30)
    assert summary.status == "open"
    entries = session.scalars(select(ProgressEntry)).all()
    assert len(entries) == 1 and entries[0].done
    closed = session.scalars(select(ScheduleItem).where(ScheduleItem.done_at.is_not(None))).all()
    assert len(closed) == 1


# The XLSX export is the workbook for people: see test_workbook.py for its round trip.
@pytest.mark.parametrize(("fmt", "name"), [("csv", "plan.csv")])
def test_csv_and_xlsx_exports_carry_the_plan_and_import_back(
    session: Session, partnership: Partnership, fmt: str, name: str
) -> None:
    _import_seed(session, partnership)
    (pid, _), *_ = objective_choices(session, partnership)
    log_progress(session, partnership, ADMIN, pid, rag=Rag.AMBER, done=False, note="Draft", now=NOW)
    data = export_plan(session, partnership, fmt)  # type: ignore[arg-type]
    parsed = read_plan(data, name)
    assert [r.title for r in parsed.rows][:2] == ["Strategic Assessment", "Partnership Plan"]
    assert len(parsed.rows) == 13
    assert parsed.rows[0].timescale == "April 2016"
    assert "(amber): Draft" in parsed.rows[0].progress
    dhr = next(r for r in parsed.rows if r.title == "Domestic Homicide Reviews")
    assert dhr.action.endswith("recommendations for future practice.")
    # Importing it back over the same plan changes nothing but the progress note.
    report = import_plan_bytes(session, partnership, data, name, now=NOW)
    assert report.created == [] and len(report.unchanged) + len(report.updated) == 13


def test_the_import_summary_counts_in_english() -> None:
    from bot.planfiles.report import ImportReport, ObjectiveOutcome

    added, gone = ObjectiveOutcome("A", "added"), ObjectiveOutcome("PREVENT", "not in file")
    one = ImportReport(2026, outcomes=[added, gone], progress_restored=1)
    text = one.summary()
    assert "1 progress entry restored" in text and "1 not in the file" in text
    two = ImportReport(2026, progress_restored=2)
    assert "2 progress entries restored" in two.summary()
