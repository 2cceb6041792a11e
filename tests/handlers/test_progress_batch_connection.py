"""Batches on their own connection trust the plan they left only while nothing else wrote."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.actions import add_action, roll_up
from bot.plan.progress import ProgressResult
from bot.plan.progress_batch import ELSEWHERE, Update
from handlers.app import make_client
from handlers.progress_batch import ProgressWriter, _Job
from handlers.units import read_only_copy
from store.db import session_scope
from store.models import Objective, Partnership, ProgressEntry, Rag
from tests.dbutil import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="batches are for SQLite's one writer")


def _jobs(partnership: Partnership, objective_id: int, *notes: str) -> list[_Job]:
    now = dt.datetime.now(dt.UTC)
    return [
        _Job(
            partnership=partnership,
            update=Update(
                objective_id=objective_id,
                slack_user_id="U0SAM",
                author="Sam",
                rag=Rag.GREEN,
                note=note,
                now=now,
                keys=(f"key:{note}",),
            ),
            user_id="U0SAM",
            rag="green",
        )
        for note in notes
    ]


def test_a_batch_reads_the_fingerprint_again_after_another_connection_wrote(
    seeded_ctx: AppContext,
) -> None:
    ctx = seeded_ctx
    with session_scope(ctx.sessions) as session:
        partnership = read_only_copy(session.scalars(select(Partnership)).one())
        dhr = session.scalars(
            select(Objective).where(
                Objective.title.like("%Homicide%"),
                Objective.plan_year == partnership.plan_year,
            )
        ).first()
        assert dhr is not None
        dhr_id = dhr.id
    fingerprints: list[str] = []

    @event.listens_for(ctx.engine, "before_cursor_execute")
    def _seen(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if "count(objective.id)" in statement:
            fingerprints.append(statement)

    writer = ProgressWriter(ctx)
    client = make_client(ctx.settings)
    try:
        for n in range(3):  # back to back on one connection: read once, then trusted
            writer._write(_jobs(partnership, dhr_id, f"note {n}a", f"note {n}b"), client)
        assert len(fingerprints) <= 1
        # Another connection adds a second action to the objective: the next batch must
        # see it (an objective with several actions is saved the one-at-a-time way).
        with session_scope(ctx.sessions) as other:
            objective = other.get(Objective, dhr_id)
            assert objective is not None
            add_action(objective, text="A second action", timescale_text="", now=ctx.clock.now())
            roll_up(objective)
            readcache.touch(other, objective, ctx.clock.now())
        before = len(fingerprints)
        jobs = _jobs(partnership, dhr_id, "after the new action")
        writer._write(jobs, client)
        assert len(fingerprints) == before + 1
        assert jobs[0].outcome == ELSEWHERE
        writer._write(jobs := _jobs(partnership, dhr_id, "still several"), client)
        assert jobs[0].outcome == ELSEWHERE
    finally:
        event.remove(ctx.engine, "before_cursor_execute", _seen)
    with session_scope(ctx.sessions) as session:
        notes = session.scalars(
            select(ProgressEntry.note).where(ProgressEntry.objective_id == dhr_id)
        ).all()
    assert sorted(n for n in notes if n.startswith("note")) == sorted(
        f"note {n}{x}" for n in range(3) for x in "ab"
    )
    assert "after the new action" not in notes and "still several" not in notes


def test_a_failed_batch_gives_its_connection_back_and_the_next_reads_afresh(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.plan.progress_batch as batches

    ctx = seeded_ctx
    with session_scope(ctx.sessions) as session:
        partnership = read_only_copy(session.scalars(select(Partnership)).one())
        oid = session.scalars(
            select(Objective.id).where(Objective.plan_year == partnership.plan_year)
        ).first()
        assert oid is not None
    writer = ProgressWriter(ctx)
    client = make_client(ctx.settings)
    writer._write(_jobs(partnership, oid, "first"), client)
    first_connection = writer._conn

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(batches, "stamp_objectives", broken)
    with pytest.raises(RuntimeError):
        writer._write(_jobs(partnership, oid, "lost"), client)
    assert writer._conn is None and writer._left is None
    monkeypatch.undo()
    jobs = _jobs(partnership, oid, "second")
    writer._write(jobs, client)
    assert isinstance(jobs[0].outcome, ProgressResult)
    assert writer._conn is not None and writer._conn is not first_connection
    with session_scope(ctx.sessions) as session:
        notes = set(session.scalars(select(ProgressEntry.note)).all())
    assert {"first", "second"} <= notes and "lost" not in notes
