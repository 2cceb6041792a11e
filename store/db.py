"""Engine (SQLite WAL, foreign keys, hidden parameters, a write gate) and the session scope.

Repositories flush, never commit; :func:`session_scope` commits or rolls back. The
schema and its migrations are :mod:`store.schema`'s.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Bound parameters never appear in error messages or logs (defence in depth for
    # referral data, which is ciphertext by the time it reaches SQL anyway).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # timeout is SQLite's busy timeout: writers queue for the lock instead of failing.
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            # Enough pooled connections for a burst of requests at once (Slack's retries
            # and a busy meeting: 16) without opening and closing one per request; the
            # overflow covers the rest of the listener threads (32) when all are busy.
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", 16)
            kwargs.setdefault("max_overflow", 30)
            kwargs.setdefault("pool_timeout", 30)
        engine = create_engine(url, **kwargs)
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            _install_write_gate(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _pg_lock_timeout)
    return engine


def _pg_lock_timeout(conn: Connection) -> None:
    """Inside :func:`bounded_waits`, a PostgreSQL transaction waits for row and table
    locks no longer than the budget left (``SET LOCAL``: this transaction only)."""
    left = _budget_left()
    if left is not None:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(left * 1000))}")


class DatabaseBusy(Exception):
    """A write waited its whole budget (see :func:`bounded_waits`) for the database's
    lock; the statement was not run, and the transaction is to be rolled back."""


_BUDGET = threading.local()  # .deadline: time.monotonic() by which a write must have its lock
SQLITE_BUSY_MS = 30_000  # a connection's busy timeout outside a bounded wait


@contextmanager
def bounded_waits(seconds: float) -> Iterator[None]:
    """Writes made in this thread inside the block wait at most ``seconds`` (from
    entering it) for the database's write lock, then fail with :class:`DatabaseBusy`
    (SQLite: the in-process gate and SQLite's busy timeout) or the driver's lock
    timeout error (PostgreSQL ``lock_timeout``); see :func:`is_database_busy`. A
    request that must answer Slack within 3 seconds gives up in time to say so."""
    previous = getattr(_BUDGET, "deadline", None)
    _BUDGET.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _BUDGET.deadline = previous


def _budget_left() -> float | None:
    deadline: float | None = getattr(_BUDGET, "deadline", None)
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def is_database_busy(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a write that gave up waiting for a lock."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, DatabaseBusy):
            return True
        text = str(seen).lower()
        if "database is locked" in text or "database table is locked" in text:
            return True
        if getattr(seen, "sqlstate", None) == "55P03" or "lock timeout" in text:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


_WRITE_STATEMENT = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)


class _WriteGate:
    """One writer at a time per SQLite file, queued in Python.

    SQLite lets one connection write at a time; others retry with sleeps of up to
    100 ms, so under load a writer can wait a second while the file sits idle. The
    gate is taken just before a connection's first write statement of a transaction
    (which is also when pysqlite opens the transaction and SQLite takes its write
    lock), whether it comes from an ORM flush or a plain statement, and released just
    after the driver's commit or rollback (or when the connection goes back to the
    pool). Writers therefore take turns at once, and the gate and SQLite's lock are
    always taken in the same order. A second connection writing in a thread that
    already holds the gate is left to SQLite's own busy handling, so nesting cannot
    deadlock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._holder: Any = None  # the driver connection holding the gate

    def before_cursor_execute(
        self, conn: Connection, _cursor: Any, statement: str, *_: Any
    ) -> None:
        if not _WRITE_STATEMENT.match(statement):
            return
        raw = _driver_connection(conn.connection)
        if self._holder is raw or self._owner == threading.get_ident():
            return
        left = _budget_left()
        if self._lock.acquire(timeout=30 if left is None else left):
            self._owner = threading.get_ident()
            self._holder = raw
        elif left is not None:
            raise DatabaseBusy("another writer held the database past this request's budget")
        # Another process may hold SQLite's own lock: wait for it no longer than is left.
        left = _budget_left()
        # Rounded down to a tenth of a second, so a steady budget sets it once, not at
        # every transaction.
        busy_ms = SQLITE_BUSY_MS if left is None else max(1, int(left * 10) * 100)
        info = conn.connection.info  # kept with this driver connection while pooled
        if info.get("busy_ms", SQLITE_BUSY_MS) != busy_ms:
            raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
            info["busy_ms"] = busy_ms

    @property
    def owner(self) -> int | None:
        """The thread holding the gate, if any."""
        return self._owner

    def release(self, connection: Any) -> None:
        if self._holder is not None and self._holder is _driver_connection(connection):
            self._holder = None
            self._owner = None
            self._lock.release()

    def checked_in(self, dbapi_conn: Any, _record: Any) -> None:
        self.release(dbapi_conn)


def _driver_connection(connection: Any) -> Any:
    return getattr(connection, "dbapi_connection", connection)


_GATES: weakref.WeakKeyDictionary[Engine, _WriteGate] = weakref.WeakKeyDictionary()


def has_write_gate(engine: Engine) -> bool:
    """Whether ``engine``'s writers take turns through the in-process gate (a SQLite
    file): a writer holding the gate and SQLite's lock is the only one, in this
    process and any other."""
    return engine in _GATES


def holds_write_gate(engine: Engine) -> bool:
    """Whether this thread holds ``engine``'s write gate (it has written in a
    transaction not yet ended)."""
    gate = _GATES.get(engine)
    return gate is not None and gate.owner == threading.get_ident()


def _install_write_gate(engine: Engine) -> None:
    gate = _WriteGate()
    _GATES[engine] = gate
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            gate.release(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            gate.release(dbapi_connection)

    # Released after the driver has let go of SQLite's lock, not before (the engine's
    # commit/rollback events fire before the driver call).
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    event.listen(engine, "before_cursor_execute", gate.before_cursor_execute)
    event.listen(engine, "checkin", gate.checked_in)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    """Ask the database for one row (a health check); raises if it cannot answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def open_pool(engine: Engine) -> int:
    """Before serving: open as many connections as the pool keeps, each having read the
    schema, so the first requests at once do not each open their own (for SQLite a
    connection's set-up and first read of the schema cost more than the request).
    How many were opened."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 0  # an in-memory database: one connection, already open
    opened: list[Connection] = []
    try:
        for _ in range(pool.size() - pool.checkedin()):
            conn = engine.connect()
            opened.append(conn)
            conn.execute(_SCHEMA_READ).all()
            conn.rollback()
    finally:
        for conn in opened:
            conn.close()
    return len(opened)


# Reads no row, but needs the schema (a bare SELECT 1 does not).
_SCHEMA_READ = text("SELECT 1 FROM partnership WHERE 1 = 0")
