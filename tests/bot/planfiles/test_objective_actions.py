"""Objectives with several actions, from real plans' layouts in CSV and XLSX: each action
with its own lead, timescale and dates, RAG and progress; the objective rolls them up."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.notices.reminder_sources import reminder_plans, reminder_source
from bot.plan.members import Actor
from bot.plan.progress import log_progress_result
from bot.planfiles.exporter import export_plan
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.rollover import rollover
from bot.text.matching import action_number_of
from store.models import Objective, ObjectiveStatus, Partnership, ProgressEntry, Rag, Role
from tests.bot.planfiles.plans import seed_bytes

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
ADMIN = Actor("UADMIN", Role.ADMIN, "Pat Manager")
HEADER = ["Theme", "Action", "Lead officer", "By when", "RAG"]
# PREVENT written on each of its rows; Hate crime left blank below its first row.
REPEATED = [
    HEADER,
    ["PREVENT", "Train frontline staff", "<@U0SMITH>", "December 2026", "Amber"],
    ["PREVENT", "Deliver WRAP workshops to schools", "<@U0JONES>", "March 2027", "Green"],
    ["Hate crime", "Publish the reporting guide.", "<@U0KHAN>", "January 2027", ""],
    ["", "Run two awareness weeks", "", "Ongoing", "Red"],
]


def _csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _xlsx(rows: list[list[object]], merge: tuple[str, ...] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(row)
    for cells in merge:  # openpyxl keeps the value in the range's first cell only
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _objectives(session: Session) -> dict[str, Objective]:
    return {o.title: o for o in session.scalars(select(Objective))}


def _import(session: Session, partnership: Partnership, data: bytes, name: str) -> list[str]:
    report = import_plan_bytes(session, partnership, data, name, now=NOW, plan_year=2026)
    return report.lines()


def _check_two_objectives(session: Session) -> None:
    found = _objectives(session)
    prevent, hate = found["PREVENT"], found["Hate crime"]
    assert [(a.position, a.text) for a in prevent.actions] == [
        (1, "Train frontline staff"),
        (2, "Deliver WRAP workshops to schools"),
    ]
    assert [[o.slack_user_id for o in a.owners] for a in prevent.actions] == [
        ["U0SMITH"],
        ["U0JONES"],
    ]
    assert [[i.due_on for i in a.schedule] for a in prevent.actions] == [
        [dt.date(2026, 12, 31)],
        [dt.date(2027, 3, 31)],
    ]
    assert [a.rag for a in prevent.actions] == [Rag.AMBER, Rag.GREEN]
    assert prevent.rag == Rag.AMBER  # the worst open action's
    assert [a.text for a in hate.actions] == [
        "Publish the reporting guide.",
        "Run two awareness weeks",
    ]
    assert [i.kind for i in hate.actions[1].schedule] == ["ongoing"]
    assert hate.actions[1].owners == [] and hate.rag == Rag.RED


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_objective_repeated_or_left_blank_holds_several_actions(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    data = _csv(REPEATED) if fmt == "csv" else _xlsx(REPEATED)
    lines = _import(session, partnership, data, f"plan.{fmt}")
    assert "Added (2): PREVENT (2 actions); Hate crime (2 actions)" in lines
    _check_two_objectives(session)


def test_merged_objective_cells_in_excel_are_one_objective(
    session: Session, partnership: Partnership
) -> None:
    rows = [list(r) for r in REPEATED]
    rows[2][0] = ""  # what a merged A2:A3 holds below its first cell
    _import(session, partnership, _xlsx(rows, merge=("A2:A3", "A4:A5")), "plan.xlsx")
    _check_two_objectives(session)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_row_carrying_on_the_sentence_above_joins_that_action(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    rows: list[list[object]] = [
        HEADER,
        [
            "Domestic Homicide Reviews",
            "Pull together all incidents and information from",
            "",
            "Ongoing",
            "",
        ],
        ["", "partner agencies and make recommendations.", "", "", ""],
        ["", "Publish each review's action plan.", "", "Within six months of DHR publication", ""],
    ]
    data = _csv(rows) if fmt == "csv" else _xlsx(rows)
    _import(session, partnership, data, f"plan.{fmt}")
    (dhr,) = _objectives(session).values()
    assert [a.text for a in dhr.actions] == [
        "Pull together all incidents and information from partner agencies and make "
        "recommendations.",
        "Publish each review's action plan.",
    ]
    assert dhr.actions[1].needs_dating and not dhr.actions[0].needs_dating


def test_progress_is_logged_against_the_action_named_and_rolls_up(
    session: Session, partnership: Partnership
) -> None:
    _import(session, partnership, _csv(REPEATED), "plan.csv")
    prevent = _objectives(session)["PREVENT"]
    with pytest.raises(UserError) as asked:
        log_progress_result(
            session, partnership, ADMIN, prevent.id, rag=Rag.RED, done=False, note="x", now=NOW
        )
    assert "PREVENT has 2 actions" in str(asked.value)
    assert "2. Deliver WRAP workshops" in str(asked.value) and "Nothing was saved" in str(
        asked.value
    )
    assert prevent.progress == []
    result = log_progress_result(
        session,
        partnership,
        ADMIN,
        prevent.id,
        rag=Rag.RED,
        done=False,
        note="Workshops cancelled",
        now=NOW,
        action_number=2,
    )
    assert result.action_label == "2. Deliver WRAP workshops to schools"
    assert [a.rag for a in prevent.actions] == [Rag.AMBER, Rag.RED]
    assert prevent.rag == Rag.RED
    entries = session.scalars(select(ProgressEntry).where(ProgressEntry.objective_id == prevent.id))
    assert [e.action_id for e in entries] == [prevent.actions[1].id]
    done = log_progress_result(
        session,
        partnership,
        ADMIN,
        prevent.id,
        rag=None,
        done=True,
        note="Trained",
        now=NOW,
        action_number=1,
    )
    assert done.objective_done  # the action is done ...
    assert prevent.actions[0].status == ObjectiveStatus.DONE
    assert prevent.status == ObjectiveStatus.OPEN  # ... the objective is not, until both are


def test_typed_words_name_an_objective_and_its_action_number() -> None:
    choices = [(1, "PREVENT"), (2, "Priority 2"), (3, "Hate crime")]
    assert action_number_of("prevent 2", choices) == ("prevent", 2)
    assert action_number_of("prevent action 3", choices) == ("prevent", 3)
    assert action_number_of("priority 2", choices) == ("priority 2", None)
    assert action_number_of("hate crime", choices) == ("hate crime", None)


def test_reminders_go_to_each_actions_own_lead_for_its_own_dates(
    session: Session, partnership: Partnership
) -> None:
    _import(session, partnership, _csv(REPEATED), "plan.csv")
    prevent = _objectives(session)["PREVENT"]
    plans = [
        p
        for day in range(3, 32)
        for p in reminder_plans(session, partnership, dt.datetime(2026, 12, day, 12, tzinfo=dt.UTC))
        if p.objective_id == prevent.id and p.kind == "deadline"
    ]
    assert {(p.target, p.payload["due_on"]) for p in plans} == {("U0SMITH", "2026-12-31")}
    plan = plans[0]
    assert plan.payload["action_id"] == prevent.actions[0].id
    assert plan.key.startswith(f"rem:o{prevent.id}a{prevent.actions[0].id}:")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_have_a_row_per_action_and_import_back_unchanged(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    _import(session, partnership, _csv(REPEATED), "plan.csv")
    exported = export_plan(session, partnership, "csv" if fmt == "csv" else "json")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(exported.decode())))
        assert [r[0] for r in rows if r and r[0] in ("PREVENT", "Hate crime")] == [
            "PREVENT",
            "PREVENT",
            "Hate crime",
            "Hate crime",
        ]
    else:
        document = json.loads(exported)
        prevent = document["objectives"][0]
        assert [a["number"] for a in prevent["actions"]] == [1, 2]
        assert [a["owners"] for a in prevent["actions"]] == [["<@U0SMITH>"], ["<@U0JONES>"]]
    lines = _import(session, partnership, exported, f"plan.{fmt}")
    assert lines[0].endswith("0 added, 0 updated, 2 unchanged."), lines


def test_the_seed_is_one_action_per_objective_and_its_export_only_adds_that_level(
    session: Session, partnership: Partnership
) -> None:
    lines = _import(session, partnership, seed_bytes(), "seed.txt")
    assert lines[0] == "Plan 2026/27: 13 added, 0 updated, 0 unchanged."
    assert lines[2].startswith("Added (13): Strategic Assessment; Partnership Plan;")
    assert "actions)" not in lines[2]
    document = json.loads(export_plan(session, partnership, "json"))
    for objective in document["objectives"]:
        (action,) = objective["actions"]
        assert action["number"] == 1
        for key in ("action", "timescale", "progress", "owners", "status", "rag", "schedule"):
            assert action[key] == objective[key], (objective["title"], key)


def test_rollover_carries_each_action_with_its_lead_and_moved_dates(
    session: Session, partnership: Partnership
) -> None:
    _import(session, partnership, _csv(REPEATED), "plan.csv")
    rollover(session, partnership, 2027, now=NOW)
    (prevent,) = session.scalars(
        select(Objective).where(Objective.title == "PREVENT", Objective.plan_year == 2027)
    )
    assert [(a.position, a.timescale_text) for a in prevent.actions] == [
        (1, "December 2027"),
        (2, "March 2028"),
    ]
    assert [[o.slack_user_id for o in a.owners] for a in prevent.actions] == [
        ["U0SMITH"],
        ["U0JONES"],
    ]
    assert [[i.due_on for i in a.schedule] for a in prevent.actions] == [
        [dt.date(2027, 12, 31)],
        [dt.date(2028, 3, 31)],
    ]
    assert all(a.rag is None and a.status == ObjectiveStatus.OPEN for a in prevent.actions)


def test_the_catch_up_summary_names_each_overdue_action(
    session: Session, partnership: Partnership
) -> None:
    partnership.partnership_channel = "C0PARTNER"
    rows = [
        HEADER,
        ["PREVENT", "Train frontline staff", "<@U0SMITH>", "September 2026", "Amber"],
        ["PREVENT", "Deliver WRAP workshops to schools", "<@U0JONES>", "October 2026", ""],
    ]
    _import(session, partnership, _csv(rows), "plan.csv")
    planned = reminder_source(session, partnership, dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC))
    (summary,) = [p for p in planned if p.kind == "overdue_summary"]
    assert [i["title"] for i in summary.payload["items"]] == [
        "PREVENT, action 1. Train frontline staff",
        "PREVENT, action 2. Deliver WRAP workshops to schools",
    ]


def test_reimport_finds_each_action_by_its_text_when_rows_move(
    session: Session, partnership: Partnership
) -> None:
    _import(session, partnership, _csv(REPEATED), "plan.csv")
    prevent = _objectives(session)["PREVENT"]
    wrap = prevent.actions[1]
    log_progress_result(
        session,
        partnership,
        ADMIN,
        prevent.id,
        rag=Rag.RED,
        done=False,
        note="x",
        now=NOW,
        action_number=2,
    )
    rows = [list(r) for r in REPEATED]
    rows.insert(1, ["PREVENT", "Run a Channel panel audit", "<@U0KHAN>", "May 2027", ""])
    lines = _import(session, partnership, _csv(rows), "plan.csv")
    assert any(
        line.startswith(
            "Updated (1): PREVENT (action 1 added, moved from 1 (action 2), "
            "moved from 2 (action 3))"
        )
        for line in lines
    ), lines
    assert [(a.position, a.text) for a in prevent.actions] == [
        (1, "Run a Channel panel audit"),
        (2, "Train frontline staff"),
        (3, "Deliver WRAP workshops to schools"),
    ]
    assert prevent.actions[2] is wrap and wrap.rag == Rag.RED  # its history and RAG with it
