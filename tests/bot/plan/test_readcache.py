"""The plan read-model cache: reused while nothing changed, refreshed by every write path,
never filled from uncommitted writes, and equal to a fresh read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.done import mark_done, snooze, waive
from bot.plan.meetings import set_meeting
from bot.plan.members import Actor, ensure_partnership, resolve_actor
from bot.plan.owners import set_owner
from bot.plan.progress import log_progress
from bot.plan.queries import current_objectives, last_progress_at
from bot.plan.reading import due_items, due_list, list_objectives, summarise
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.rollover import rollover
from bot.planfiles.seed import load_seed_if_empty
from bot.settings import Settings
from store.db import make_engine, make_session_factory, session_scope
from store.models import Member, Partnership, Rag, Role
from tests.conftest import NOW

TODAY = dt.date(2026, 11, 26)
ADMIN = Actor("UADMIN", Role.ADMIN, "Admin")


@pytest.fixture
def seeded_ctx(plan_ctx: AppContext, plan_settings: Settings) -> AppContext:
    with session_scope(plan_ctx.sessions) as session:
        load_seed_if_empty(session, plan_settings, now=NOW)
    readcache.clear()
    return plan_ctx


def _partnership(session: Session) -> Partnership:
    return session.scalars(select(Partnership)).one()


def _snapshot(ctx: AppContext) -> readcache.PlanSnapshot:
    with session_scope(ctx.sessions) as session:
        p = _partnership(session)
        return readcache.plan_snapshot(session, p.id, p.plan_year)


def _uncached(
    session: Session, p: Partnership, days: int = 60
) -> tuple[list[object], list[object]]:
    objectives = current_objectives(session, p)
    last = last_progress_at(session, (o.id for o in objectives))
    summaries: list[object] = [summarise(o, TODAY, last.get(o.id)) for o in objectives]
    due: list[object] = list(due_list(objectives, TODAY, days))
    return summaries, due


def _first_id(ctx: AppContext) -> int:
    return _snapshot(ctx).objectives[0].id


def test_reused_until_the_plan_changes_and_equal_to_a_fresh_read(seeded_ctx: AppContext) -> None:
    first = _snapshot(seeded_ctx)
    assert _snapshot(seeded_ctx) is first
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        summaries, due = _uncached(session, p)
        assert list_objectives(session, p, TODAY) == summaries
        assert due_items(session, p, TODAY, 60) == due
    assert len(first.objectives) > 10


WRITES: dict[str, Callable[[Session, Partnership, int], object]] = {
    "log_progress": lambda s, p, oid: log_progress(
        s, p, ADMIN, oid, rag=Rag.RED, done=False, note="Late", now=NOW
    ),
    "mark_done": lambda s, p, oid: mark_done(s, p, ADMIN, oid, now=NOW),
    "set_owner": lambda s, p, oid: set_owner(s, p, ADMIN, oid, "UNEWOWNER", now=NOW),
    "waive": lambda s, p, oid: waive(s, p, ADMIN, oid, NOW),
    "snooze": lambda s, p, oid: snooze(s, p, ADMIN, oid, NOW + dt.timedelta(days=3), now=NOW),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_path_refreshes_the_cache(seeded_ctx: AppContext, name: str) -> None:
    before = _snapshot(seeded_ctx)
    oid = before.objectives[0].id
    with session_scope(seeded_ctx.sessions) as session:
        WRITES[name](session, _partnership(session), oid)
    after = _snapshot(seeded_ctx)
    assert after is not before  # the frozen clock does not hide the change
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        assert list_objectives(session, p, TODAY) == _uncached(session, p)[0]


def test_moving_a_linked_meeting_refreshes_due_items(seeded_ctx: AppContext) -> None:
    snap = _snapshot(seeded_ctx)
    linked = next(o for o in snap.objectives if o.meetings)
    meeting = linked.meetings[0]
    day = meeting.month.replace(day=12)
    with session_scope(seeded_ctx.sessions) as session:
        set_meeting(session, _partnership(session), ADMIN, meeting.body, day, now=NOW)
    fresh = _snapshot(seeded_ctx)
    assert fresh is not snap
    moved = next(o for o in fresh.objectives if o.id == linked.id)
    assert any(m.meeting_date == day for m in moved.meetings)


def test_import_and_rollover_refresh_the_cache(seeded_ctx: AppContext) -> None:
    before = _snapshot(seeded_ctx)
    text = (
        "Plan\n\nObjective\tOutcome/Action\tTimescale\tProgress\nNew duty\tDo it.\tMarch 2027\t\n"
    )
    with session_scope(seeded_ctx.sessions) as session:
        import_plan_bytes(session, _partnership(session), text.encode(), "plan.txt", now=NOW)
    imported = _snapshot(seeded_ctx)
    assert imported is not before
    assert "New duty" in {o.title for o in imported.objectives}
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        rollover(session, p, p.plan_year + 1, now=NOW)
    rolled = _snapshot(seeded_ctx)
    assert rolled.plan_year == imported.plan_year + 1
    assert [o.title for o in rolled.objectives] == [o.title for o in imported.objectives]


def test_a_session_with_uncommitted_writes_bypasses_the_cache(seeded_ctx: AppContext) -> None:
    cached = _snapshot(seeded_ctx)
    oid = cached.objectives[0].id
    session = seeded_ctx.sessions()
    try:
        p = _partnership(session)
        log_progress(session, p, ADMIN, oid, rag=Rag.AMBER, done=False, note="Draft", now=NOW)
        mine = readcache.plan_snapshot(session, p.id, p.plan_year)
        assert next(o for o in mine.objectives if o.id == oid).rag == "amber"
        session.rollback()
    finally:
        session.close()
    # The rolled-back view never reached the cache.
    again = _snapshot(seeded_ctx)
    assert again is cached
    assert next(o for o in again.objectives if o.id == oid).rag != "amber"


def test_a_database_written_by_another_process_is_seen(seeded_ctx: AppContext) -> None:
    cached = _snapshot(seeded_ctx)
    oid = cached.objectives[0].id
    # Another "process": a separate engine on the same file.
    engine = make_engine(str(seeded_ctx.engine.url))
    try:
        with session_scope(make_session_factory(engine)) as session:
            p = _partnership(session)
            log_progress(session, p, ADMIN, oid, rag=Rag.GREEN, done=False, note="x", now=NOW)
    finally:
        engine.dispose()
    fresh = _snapshot(seeded_ctx)
    assert next(o for o in fresh.objectives if o.id == oid).rag == "green"


def test_two_first_requests_from_one_person_make_one_member(
    plan_ctx: AppContext, plan_settings: Settings
) -> None:
    with session_scope(plan_ctx.sessions) as session:
        ensure_partnership(session, plan_settings, now=NOW)

    raced: list[bool] = []

    def other_request_wins(*_args: object) -> None:
        # The other request commits the same new member after this one looked for it.
        if raced:
            return
        raced.append(True)
        with session_scope(plan_ctx.sessions) as other:
            resolve_actor(other, _partnership(other), "UNEWCOMER", now=NOW, display_name="A")

    event.listen(Session, "before_flush", other_request_wins)
    try:
        with session_scope(plan_ctx.sessions) as session:
            actor = resolve_actor(
                session, _partnership(session), "UNEWCOMER", now=NOW, display_name="B"
            )
    finally:
        event.remove(Session, "before_flush", other_request_wins)
    assert raced
    assert actor.slack_user_id == "UNEWCOMER"
    assert actor.display_name == "B"  # the loser's newer name is kept
    with session_scope(plan_ctx.sessions) as session:
        count = session.scalar(
            select(func.count(Member.id)).where(Member.slack_user_id == "UNEWCOMER")
        )
    assert count == 1


class _Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def _count_fingerprints(ctx: AppContext) -> list[str]:
    seen: list[str] = []

    @event.listens_for(ctx.engine, "before_cursor_execute")
    def _note(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if "max(progress_entry.id)" in statement.lower():
            seen.append(statement)

    return seen


def test_checked_at_most_once_per_ttl_and_again_after_it(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    seen = _count_fingerprints(seeded_ctx)
    first = _snapshot(seeded_ctx)
    assert len(seen) == 1
    clock.at += readcache.TTL_SECONDS / 2
    assert _snapshot(seeded_ctx) is first
    assert len(seen) == 1  # within the TTL: no query
    clock.at += readcache.TTL_SECONDS
    assert _snapshot(seeded_ctx) is first
    assert len(seen) == 2  # expired: checked again, still the same plan


def test_another_process_is_seen_once_the_ttl_expires(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    first = _snapshot(seeded_ctx)
    oid = first.objectives[0].id
    # Another process: a raw connection, so no session event in this one sees it.
    other = make_engine(seeded_ctx.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(
            text("UPDATE objective SET title = 'Renamed elsewhere' WHERE id = :id"), {"id": oid}
        )
        conn.execute(
            text("UPDATE objective SET updated_at = :at WHERE id = :id"),
            {"id": oid, "at": dt.datetime(2099, 1, 1, tzinfo=dt.UTC)},
        )
    other.dispose()
    assert _snapshot(seeded_ctx) is first  # within the TTL
    clock.at += readcache.TTL_SECONDS + 0.01
    assert _snapshot(seeded_ctx).objectives[0].title == "Renamed elsewhere"


def test_a_write_in_this_process_is_seen_at_once(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()  # never moves: only the write can make the cache look again
    monkeypatch.setattr(readcache, "monotonic", clock)
    first = _snapshot(seeded_ctx)
    oid = first.objectives[0].id
    with session_scope(seeded_ctx.sessions) as session:
        log_progress(
            session, _partnership(session), ADMIN, oid, rag=Rag.RED, done=False, note="x", now=NOW
        )
    after = _snapshot(seeded_ctx)
    assert after is not first
    assert after.objectives[0].rag == Rag.RED
    with session_scope(seeded_ctx.sessions) as session:
        assert (
            due_items(session, _partnership(session), TODAY, 60)
            == _uncached(session, _partnership(session))[1]
        )


def test_a_rolled_back_write_does_not_invalidate(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    first = _snapshot(seeded_ctx)
    before = readcache.generation()
    session = seeded_ctx.sessions()
    try:
        log_progress(
            session,
            _partnership(session),
            ADMIN,
            first.objectives[0].id,
            rag=Rag.RED,
            done=False,
            note="x",
            now=NOW,
        )
        session.rollback()
    finally:
        session.close()
    assert readcache.generation() == before
    assert _snapshot(seeded_ctx) is first


def test_many_first_reads_at_once_read_the_plan_once(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    real = readcache.load_snapshot
    reads: list[int] = []

    def slow_read(*args: object) -> readcache.PlanSnapshot:
        reads.append(1)
        time.sleep(0.05)  # long enough for every other reader to arrive meanwhile
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(readcache, "load_snapshot", slow_read)
    readcache.clear()
    got: list[readcache.PlanSnapshot] = []
    readers = [threading.Thread(target=lambda: got.append(_snapshot(seeded_ctx))) for _ in range(8)]
    for r in readers:
        r.start()
    for r in readers:
        r.join()
    assert len(got) == 8 and all(s is got[0] for s in got)
    assert len(reads) == 1


def test_when_the_ttl_runs_out_one_reader_checks_and_the_others_keep_the_snapshot(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    seen = _count_fingerprints(seeded_ctx)
    first = _snapshot(seeded_ctx)
    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        key = (readcache._engine_token(session), p.id, p.plan_year)
    clock.at += readcache.TTL_SECONDS + 0.1
    checking = readcache._checker(key)
    assert checking.acquire()  # another reader is asking the database just now
    try:
        assert _snapshot(seeded_ctx) is first
        assert len(seen) == 1  # not asked again meanwhile
    finally:
        checking.release()
    assert _snapshot(seeded_ctx) is first
    assert len(seen) == 2
    # After a write in this process nobody is given the old snapshot, checker or not.
    with session_scope(seeded_ctx.sessions) as session:
        log_progress(
            session,
            _partnership(session),
            ADMIN,
            first.objectives[0].id,
            rag=Rag.AMBER,
            done=False,
            note="y",
            now=NOW,
        )
    assert checking.acquire()
    try:
        after = _snapshot(seeded_ctx)
    finally:
        checking.release()
    assert after is not first and after.objectives[0].rag == Rag.AMBER


def test_a_commit_that_changed_only_outbox_rows_leaves_the_caches_valid(
    seeded_ctx: AppContext,
) -> None:
    from store.models import Delivery, DeliveryStatus

    with session_scope(seeded_ctx.sessions) as session:
        p = _partnership(session)
        session.add(
            Delivery(
                partnership_id=p.id,
                key="test:outbox-only",
                kind="progress_update",
                target="C0PARTNER",
                occurrence=NOW,
                status=DeliveryStatus.PENDING,
                next_attempt_at=NOW,
                payload={"items": []},
                created_at=NOW,
            )
        )
    before = readcache.generation()
    with session_scope(seeded_ctx.sessions) as session:
        row = session.scalars(select(Delivery).where(Delivery.key == "test:outbox-only")).one()
        row.status = DeliveryStatus.SENT  # what the outbox does after a post
    assert readcache.generation() == before
    with session_scope(seeded_ctx.sessions) as session:
        member = session.scalars(select(Member)).first()
        assert member is not None
        member.display_name = "Renamed"  # a cached view reads this: caches are checked
    assert readcache.generation() != before
