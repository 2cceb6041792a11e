"""What an import says it did: each objective added, updated (naming the fields),
unchanged or no longer in the file, and the plan year it chose and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.plan.actions import roll_up
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.report import ObjectiveOutcome
from store.models import Objective, Partnership, Rag
from tests.paths import SEED

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
HEADER = "Objective,Action,Timescale,Lead,Status,Budget\n"


def _import(session: Session, partnership: Partnership, body: str) -> list[str]:
    data = (HEADER + body).encode()
    return import_plan_bytes(session, partnership, data, "plan.csv", now=NOW).lines()


def test_reimport_names_what_was_added_updated_unchanged_and_left_out(
    session: Session, partnership: Partnership
) -> None:
    _import(
        session,
        partnership,
        "Prevent,Train staff,December 2026,J Smith,Amber,5k\n"
        "Hate crime,Run the campaign,Ongoing,,,\n"
        "ASB,Publish the policy,January 2027,,,\n",
    )
    report = import_plan_bytes(
        session,
        partnership,
        (
            HEADER + "Prevent,Train staff,February 2027,A Jones,Red,6k\n"
            "Hate crime,Run the campaign,Ongoing,,,\n"
            "Serious violence,Needs assessment,March 2027,,,\n"
        ).encode(),
        "plan.csv",
        now=NOW,
    )
    assert report.outcomes == [
        ObjectiveOutcome(
            "Prevent", "updated", ("Timescale", "Owner(s)", "Status", "Budget", "RAG")
        ),
        ObjectiveOutcome("Hate crime", "unchanged"),
        ObjectiveOutcome("Serious violence", "added"),
        ObjectiveOutcome("ASB", "not in file"),
    ]
    lines = report.lines()
    assert lines[0] == "Plan 2026/27: 1 added, 1 updated, 1 unchanged. 1 not in the file."
    assert lines[1] == "Plan year 2026/27: most of its dates fall in 2026/27."
    assert "Added (1): Serious violence" in lines
    assert "Updated (1): Prevent (Timescale, Owner(s), Status, Budget, RAG)" in lines
    assert "Unchanged (1): Hate crime" in lines
    assert "No longer in the file, left as they are (1): ASB" in lines
    prevent = session.scalars(select(Objective).where(Objective.title == "Prevent")).one()
    assert prevent.rag == Rag.RED and prevent.file_columns == {"Status": "Red", "Budget": "6k"}
    asb = session.scalars(select(Objective).where(Objective.title == "ASB")).one()
    assert asb.timescale_text == "January 2027"  # left as it is


def test_an_unchanged_status_cell_does_not_overwrite_a_rag_logged_since(
    session: Session, partnership: Partnership
) -> None:
    body = "Prevent,Train staff,December 2026,J Smith,Amber,5k\n"
    _import(session, partnership, body)
    prevent = session.scalars(select(Objective)).one()
    prevent.actions[0].rag = Rag.GREEN  # logged in Slack after the import
    roll_up(prevent)
    lines = _import(session, partnership, body)
    assert "Unchanged (1): Prevent" in lines and prevent.rag == Rag.GREEN


def test_seed_import_report_lists_every_objective_and_the_year(
    session: Session, partnership: Partnership
) -> None:
    report = import_plan_bytes(session, partnership, SEED.read_bytes(), "seed.txt", now=NOW)
    lines = report.lines()
    assert lines[0] == "Plan 2016/17: 13 added, 0 updated, 0 unchanged."
    assert lines[1] == (
        "Plan year 2016/17: most of its dates fall in 2016/17 (they run from 2015/16 to 2016/17)."
    )
    assert lines[2].startswith("Added (13): Strategic Assessment; Partnership Plan;")
    assert not any(line.startswith("Columns the bot does not use") for line in lines)
    again = import_plan_bytes(session, partnership, SEED.read_bytes(), "seed.txt", now=NOW)
    assert again.lines()[2].startswith("Unchanged (13): Strategic Assessment;")
