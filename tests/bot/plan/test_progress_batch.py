"""Progress saved in batches: each update once, answered as one at a time would be, and the
process's snapshot afterwards is the plan as stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.progress import (
    ProgressResult,
    log_progress_result,
    repeated_progress,
    request_key,
)
from bot.plan.progress_batch import ELSEWHERE, ProgressBatch, Skipped, Update
from bot.plan.reading import get_objective, progress_facts, summarise
from bot.plan.schedule import reminder_policy
from bot.plan.snapshot_queries import plan_fingerprint
from bot.plan.years import local_today
from bot.planfiles.seed import load_seed_if_empty
from bot.settings import Settings
from store.db import session_scope
from store.models import Objective, Partnership, ProgressEntry, Rag
from tests.bot.plan.test_readcache import ADMIN
from tests.conftest import NOW
from tests.dbutil import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="batches are for SQLite's one writer")


@pytest.fixture
def seeded_ctx(plan_ctx: AppContext, plan_settings: Settings) -> AppContext:
    with session_scope(plan_ctx.sessions) as session:
        load_seed_if_empty(session, plan_settings, now=NOW)
    readcache.clear()
    return plan_ctx


def _partnership(session: Session) -> Partnership:
    return session.scalars(select(Partnership)).one()


def _update(objective_id: int, rag: Rag | None, note: str, *keys: str, minutes: int = 0) -> Update:
    return Update(
        objective_id=objective_id,
        slack_user_id=ADMIN.slack_user_id,
        author="Admin",
        rag=rag,
        note=note,
        now=NOW + dt.timedelta(minutes=minutes),
        keys=tuple(request_key(k) for k in keys),
    )


def _save(ctx: AppContext, updates: list[Update]) -> list[ProgressResult | Skipped]:
    session = ctx.sessions()
    try:
        batch = ProgressBatch(session, _partnership(session))
        outcomes = batch.save(updates)
        session.commit()
        batch.committed()
        return outcomes
    finally:
        session.close()


def _two_objectives(ctx: AppContext) -> tuple[int, int]:
    """Two objectives of this year's plan."""
    with session_scope(ctx.sessions) as session:
        p = _partnership(session)
        ids = session.scalars(
            select(Objective.id)
            .where(Objective.partnership_id == p.id, Objective.plan_year == p.plan_year)
            .order_by(Objective.id)
            .limit(2)
        ).all()
    return ids[0], ids[1]


def test_three_updates_at_once_are_stored_once_each_in_the_order_sent(
    seeded_ctx: AppContext,
) -> None:
    first, second = _two_objectives(seeded_ctx)
    outcomes = _save(
        seeded_ctx,
        [
            _update(first, Rag.GREEN, "Panel booked", "a"),
            _update(second, Rag.AMBER, "Waiting on the police", "b"),
            _update(first, Rag.RED, "Panel cancelled", "c", minutes=1),
        ],
    )
    results = [o for o in outcomes if isinstance(o, ProgressResult)]
    assert len(results) == 3
    assert [r.summary.rag for r in results] == ["green", "amber", "red"]
    assert len({r.entry_id for r in results}) == 3
    with session_scope(seeded_ctx.sessions) as session:
        notes = session.scalars(select(ProgressEntry.note).order_by(ProgressEntry.id)).all()
        assert notes[-3:] == ["Panel booked", "Waiting on the police", "Panel cancelled"]
        assert session.get(Objective, first).rag == "red"  # type: ignore[union-attr]
        assert session.get(Objective, second).rag == "amber"  # type: ignore[union-attr]


def test_after_a_batch_the_process_sees_the_plan_exactly_as_stored(
    seeded_ctx: AppContext,
) -> None:
    first, second = _two_objectives(seeded_ctx)
    with session_scope(seeded_ctx.sessions) as session:  # the snapshot before, cached
        p = _partnership(session)
        readcache.plan_snapshot(session, p.id, p.plan_year)
    _save(
        seeded_ctx,
        [_update(first, Rag.AMBER, "Half way", "a"), _update(second, None, "A note", "b")],
    )
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        kept = readcache.plan_snapshot(session, p.id, p.plan_year)  # no query: installed
        stored = plan_fingerprint(session, p.id, p.plan_year)
        fresh = readcache.load_snapshot(session, p.id, p.plan_year, stored)
    assert kept.fingerprint == stored
    assert kept.objectives == fresh.objectives
    assert kept.last_progress == fresh.last_progress


def test_the_answer_is_what_logging_one_at_a_time_gives(seeded_ctx: AppContext) -> None:
    first, second = _two_objectives(seeded_ctx)
    (batched,) = _save(seeded_ctx, [_update(first, Rag.GREEN, "On track", "a")])
    assert isinstance(batched, ProgressResult)
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        single = log_progress_result(
            session, p, ADMIN, second, rag=Rag.GREEN, done=False, note="On track", now=NOW
        )
        # The batched objective, read back through the ORM now, as log_progress_result would.
        objective = get_objective(session, p, first)
        facts = progress_facts(session, p, [first])
        expected = summarise(
            objective,
            local_today(p, NOW),
            NOW,
            done_days=facts.done_days.get(first, ()),
            policy=reminder_policy(p),
        )
    assert batched.summary == expected
    assert single.summary.rag == batched.summary.rag == "green"


def test_repeats_are_answered_from_the_first_and_strangers_are_left_to_the_one_at_a_time_path(
    seeded_ctx: AppContext,
) -> None:
    first, _ = _two_objectives(seeded_ctx)
    _save(seeded_ctx, [_update(first, Rag.GREEN, "Once", "typed once")])
    with session_scope(seeded_ctx.sessions) as session:
        before = session.scalar(select(func.count()).select_from(ProgressEntry))
    outcomes = _save(
        seeded_ctx,
        [
            _update(first, Rag.GREEN, "Once", "typed once"),  # stored already
            _update(first, None, "Twice in one go", "same"),
            _update(first, None, "Twice in one go", "same"),  # the same request again
            _update(10**6, Rag.RED, "No such objective", "x"),
            _update(first, None, "   ", "y"),  # says nothing
        ],
    )
    repeat, saved, again = outcomes[0], outcomes[1], outcomes[2]
    assert isinstance(repeat, ProgressResult) and repeat.repeated and repeat.entry_id
    assert isinstance(saved, ProgressResult) and not saved.repeated
    assert isinstance(again, ProgressResult) and again.repeated
    assert again.entry_id == saved.entry_id
    assert outcomes[3] == ELSEWHERE and outcomes[4] == ELSEWHERE
    with session_scope(seeded_ctx.sessions) as session:
        after = session.scalar(select(func.count()).select_from(ProgressEntry))
    assert after == (before or 0) + 1


def test_a_repeat_is_answered_as_repeated_progress_answers_it(seeded_ctx: AppContext) -> None:
    first, _ = _two_objectives(seeded_ctx)
    _save(seeded_ctx, [_update(first, Rag.AMBER, "Panel booked", "typed")])
    _save(seeded_ctx, [_update(first, Rag.RED, "Panel cancelled", "other", minutes=1)])
    (again,) = _save(seeded_ctx, [_update(first, Rag.AMBER, "Panel booked", "typed", minutes=2)])
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        expected = repeated_progress(
            session, p, (request_key("typed"),), NOW + dt.timedelta(minutes=2)
        )
    assert expected is not None and again == expected
    assert again.summary.rag == "red"  # the objective as it stands now


def test_an_objective_updated_several_times_in_a_batch_ends_with_its_last_rag_and_stamp(
    seeded_ctx: AppContext,
) -> None:
    from store.models import Action

    first, second = _two_objectives(seeded_ctx)
    _save(
        seeded_ctx,
        [
            _update(first, Rag.RED, "Panel cancelled", "a"),
            _update(first, None, "Chasing the chair", "b", minutes=1),
            _update(second, Rag.GREEN, "On track", "c", minutes=1),
            _update(first, None, "New date offered", "d", minutes=2),
        ],
    )
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        for oid, rag, minutes in ((first, "red", 2), (second, "green", 1)):
            objective = session.get(Objective, oid)
            assert objective is not None
            assert objective.rag == rag
            stamp = objective.updated_at
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
            # Its last update's time (a stamp is just after the one before when it would
            # not be later: the second objective's follows the first's at the same minute).
            expected = NOW + dt.timedelta(minutes=minutes)
            assert expected <= stamp < expected + dt.timedelta(milliseconds=1)
            actions = session.scalars(select(Action).where(Action.objective_id == oid)).all()
            assert [a.rag for a in actions] == [rag]
            assert [a.updated_at for a in actions] == [objective.updated_at]
        kept = readcache.plan_snapshot(session, p.id, p.plan_year)
        assert kept.fingerprint == plan_fingerprint(session, p.id, p.plan_year)
