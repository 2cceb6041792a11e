"""Engine (SQLite WAL, foreign keys, hidden parameters, a write gate) and the session scope.

Repositories flush, never commit; :func:`session_scope` commits or rolls back. The
schema and its migrations are :mod:`store.schema`'s.
"""

from __future__ import annotations

import re
import threading
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
            # Enough pooled connections for the listener threads (32) without opening
            # and closing a connection per request once warm.
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", 10)
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
    return create_engine(url, **kwargs)


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
        if self._lock.acquire(timeout=30):
            self._owner = threading.get_ident()
            self._holder = raw

    def release(self, connection: Any) -> None:
        if self._holder is not None and self._holder is _driver_connection(connection):
            self._holder = None
            self._owner = None
            self._lock.release()

    def checked_in(self, dbapi_conn: Any, _record: Any) -> None:
        self.release(dbapi_conn)


def _driver_connection(connection: Any) -> Any:
    return getattr(connection, "dbapi_connection", connection)


def _install_write_gate(engine: Engine) -> None:
    gate = _WriteGate()
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
