"""A plan to export: the seed rolled over into 2026/27, owners, progress, dated meetings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.plan.actions import roll_up
from bot.plan.meetings import set_meeting
from bot.plan.members import Actor
from bot.plan.owners import set_owner
from bot.plan.progress import log_progress
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.rollover import rollover
from store.models import Objective, ObjectiveStatus, Partnership, Rag, Role
from tests.conftest import NOW
from tests.paths import SEED

ADMIN = Actor("UADMIN", Role.ADMIN, "Pat Manager")
RAG_BODY = "Maldon Responsible Authorities Group"
OCB = "One Chelmsford Board"
LATER = NOW + dt.timedelta(days=1)


def objective(session: Session, title: str) -> Objective:
    return session.scalars(
        select(Objective).where(Objective.title == title, Objective.plan_year == 2026)
    ).one()


def export_plan_fixture(session: Session, partnership: Partnership) -> None:
    """The seed in 2026/27 with: Strategic Assessment owned by U0SAM (a name is known)
    and U0NONAME (none), an amber update and a done one; Partnership Plan waived;
    meetings either side of the October and March clock changes."""
    import_plan_bytes(session, partnership, SEED.read_bytes(), "seed.txt", now=NOW)
    rollover(session, partnership, 2026, now=NOW)
    sa = objective(session, "Strategic Assessment")
    set_owner(session, partnership, ADMIN, sa.id, "U0SAM", now=NOW)
    set_owner(session, partnership, ADMIN, sa.id, "U0NONAME", now=NOW)
    log_progress(
        session, partnership, ADMIN, sa.id, rag=Rag.AMBER, done=False, note="Draft out", now=NOW
    )
    log_progress(
        session, partnership, ADMIN, sa.id, rag=Rag.RED, done=False, note="Late data", now=LATER
    )
    waived = objective(session, "Partnership Plan")
    waived.actions[0].status = ObjectiveStatus.WAIVED
    roll_up(waived)
    set_meeting(
        session,
        partnership,
        ADMIN,
        RAG_BODY,
        dt.date(2026, 9, 15),
        dt.time(10),
        "Council Chamber",
        now=NOW,
    )
    set_meeting(
        session,
        partnership,
        ADMIN,
        RAG_BODY,
        dt.date(2026, 12, 8),
        dt.time(10),
        "Council Chamber",
        now=NOW,
    )
    set_meeting(
        session,
        partnership,
        ADMIN,
        RAG_BODY,
        dt.date(2027, 3, 25),
        dt.time(10),
        "Council Chamber",
        now=NOW,
    )
    set_meeting(
        session,
        partnership,
        ADMIN,
        OCB,
        dt.date(2027, 3, 30),
        dt.time(14, 30),
        "Civic Centre",
        now=NOW,
    )
    session.flush()
