from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from bot.referrals import audit
from store.db import make_engine, make_session_factory, session_scope
from store.models import AuditRecord, Base

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def _factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    Base.metadata.create_all(engine)
    return engine, make_session_factory(engine)


def _append(session: Session, n: int, actor: str = "U1") -> None:
    for i in range(n):
        audit.record(
            session,
            partnership_id=1,
            actor=actor,
            action="view",
            reference=f"SG-2026-{i:04d}",
            detail="",
            now=NOW + dt.timedelta(seconds=i),
        )


def test_chain_verifies_and_detects_tampering(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        _append(s, 5)
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert result.ok and result.count == 5
    with session_scope(factory) as s:
        s.execute(update(AuditRecord).where(AuditRecord.id == 3).values(actor="UEVIL"))
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert not result.ok and result.first_bad_id == 3
    engine.dispose()


def test_deleting_a_record_breaks_the_chain(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        _append(s, 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE id = 2"))
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert not result.ok and result.first_bad_id == 3
    engine.dispose()


def test_concurrent_appends_never_fork_the_chain(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for _ in range(15):
                with session_scope(factory) as s:
                    _append(s, 1, actor=name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"U{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
    assert result.ok, result.message
    assert result.count == 60
    engine.dispose()


def test_every_audited_value_is_bounded_and_plain_and_the_chain_still_verifies(
    tmp_path: Path,
) -> None:
    engine, factory = _factory(tmp_path)
    forged = "SG-" + "7" * 40 + "\r\n\x1b[2J\u200b" + "é" * 150
    with session_scope(factory) as s:
        entry = audit.record(
            s,
            partnership_id=1,
            actor="U" * 100 + "\n",
            action="denied_" + "x" * 60,
            reference=forged,
            detail="role=member\x00" + "d" * 900,
            now=NOW,
        )
        assert entry.referral_reference is not None
        assert len(entry.referral_reference) <= 32
        assert entry.referral_reference.isprintable() and entry.referral_reference.isascii()
        assert entry.referral_reference.startswith("SG-7777")
        assert len(entry.actor) <= 64 and entry.actor.isprintable()
        assert len(entry.action) <= 32
        assert len(entry.detail) <= 500 and entry.detail.isprintable()
        # Two different forged values never collapse into the same audited reference.
        other = audit.record(
            s,
            partnership_id=1,
            actor="U1",
            action="denied_view",
            reference=forged[:-1] + "f",
            now=NOW,
        )
        assert other.referral_reference != entry.referral_reference
        # A well-formed reference is audited exactly as given.
        plain = audit.record(
            s, partnership_id=1, actor="U1", action="view", reference="SG-2026-0001", now=NOW
        )
        assert plain.referral_reference == "SG-2026-0001"
    with session_scope(factory) as s:
        assert audit.verify_chain(s).ok
    engine.dispose()
