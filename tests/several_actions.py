"""Test helper: a plan whose objectives have several actions, with progress on some of them.

PREVENT has two actions (Smith's, due December 2026, marked done; Jones's, due March
2027, logged red), Hate crime two (Khan's, due January 2027; an ongoing one, red in the
file) and Strategic Assessment one (overdue since April 2026), as a real plan lays them out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.plan.members import Actor
from bot.plan.progress import log_progress_result
from bot.planfiles.importer import import_plan_bytes
from store.models import Objective, Partnership, Rag, Role

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
ADMIN = Actor("UADMIN", Role.ADMIN, "Pat Manager")
ROWS = [
    ["Theme", "Action", "Lead officer", "By when", "RAG"],
    ["PREVENT", "Train frontline staff", "<@U0SMITH>", "December 2026", "Amber"],
    ["PREVENT", "Deliver WRAP workshops to schools", "<@U0JONES>", "March 2027", "Green"],
    ["Hate crime", "Publish the reporting guide.", "<@U0KHAN>", "January 2027", ""],
    ["", "Run two awareness weeks", "", "Ongoing", "Red"],
    ["Strategic Assessment", "Produce the assessment", "<@U0SAM>", "April 2026", "Amber"],
]


def plan_csv(rows: list[list[str]] = ROWS) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def objectives(session: Session) -> dict[str, Objective]:
    return {o.title: o for o in session.scalars(select(Objective).order_by(Objective.id))}


def plant_several_actions(session: Session, partnership: Partnership) -> dict[str, Objective]:
    """Import the plan (2026/27) and log: PREVENT 2 red "Workshops cancelled", then
    PREVENT 1 done "Trained" an hour later."""
    import_plan_bytes(session, partnership, plan_csv(), "plan.csv", now=NOW, plan_year=2026)
    prevent = objectives(session)["PREVENT"]
    for number, rag, done, note, at in (
        (2, Rag.RED, False, "Workshops cancelled", NOW),
        (1, None, True, "Trained", NOW + dt.timedelta(hours=1)),
    ):
        log_progress_result(
            session,
            partnership,
            ADMIN,
            prevent.id,
            rag=rag,
            done=done,
            note=note,
            now=at,
            action_number=number,
        )
    session.flush()
    return objectives(session)
