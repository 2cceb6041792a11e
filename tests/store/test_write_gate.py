"""SQLite writers take turns on an in-process gate; nested sessions never deadlock."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from store.db import make_engine, make_session_factory, session_scope
from store.models import Partnership
from store.schema import upgrade
from tests.dbutil import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="the gate is for SQLite files")
NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _partnership(name: str) -> Partnership:
    return Partnership(name=name, plan_year=2026, settings={}, referral_seq=0, created_at=NOW)


def test_second_writer_waits_for_the_first_and_then_succeeds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.sqlite3'}", connect_args={"timeout": 0.2})
    upgrade(engine)
    factory = make_session_factory(engine)
    first_flushed = threading.Event()
    order: list[str] = []

    def slow_writer() -> None:
        with session_scope(factory) as session:
            session.add(_partnership("A"))
            session.flush()
            first_flushed.set()
            time.sleep(0.6)  # longer than SQLite's busy timeout above
            order.append("A")

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert first_flushed.wait(5)
    with session_scope(factory) as session:  # would fail "database is locked" without the gate
        session.add(_partnership("B"))
        session.flush()
        order.append("B")
    thread.join(5)
    assert order == ["A", "B"]
    engine.dispose()


def test_a_nested_session_in_the_same_thread_does_not_deadlock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.sqlite3'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.monotonic()
    with session_scope(factory) as outer:
        outer.add(_partnership("A"))
        outer.flush()
        with session_scope(factory) as inner:  # reads only: no deadlock, no wait
            inner.get(Partnership, 1)
    assert time.monotonic() - started < 5
    with session_scope(factory) as session:  # the gate was released
        session.add(_partnership("C"))
    engine.dispose()


def test_a_plain_write_statement_takes_the_gate_too(tmp_path: Path) -> None:
    """A transaction whose first write is a Core UPDATE (as a referral's number lock is)
    and an ORM flush in another thread take turns instead of deadlocking on SQLite's lock."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.sqlite3'}", connect_args={"timeout": 2})
    upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(_partnership("P"))
    outcome: dict[str, str] = {}

    def core_first() -> None:
        with session_scope(factory) as session:
            session.execute(update(Partnership).values(referral_seq=Partnership.referral_seq + 1))
            time.sleep(0.3)
            session.add(_partnership("Q"))
            session.flush()
        outcome["core"] = "ok"

    def orm_write() -> None:
        time.sleep(0.1)
        try:
            with session_scope(factory) as session:
                session.add(_partnership("R"))
                session.flush()
            outcome["orm"] = "ok"
        except Exception as exc:  # the failure this test exists to catch
            outcome["orm"] = type(exc).__name__

    started = time.monotonic()
    threads = [threading.Thread(target=core_first), threading.Thread(target=orm_write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcome == {"core": "ok", "orm": "ok"}
    assert time.monotonic() - started < 1.5  # no busy-timeout stall
    engine.dispose()
