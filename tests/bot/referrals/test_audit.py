from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from bot.referrals import audit
from store.db import make_engine, make_session_factory, session_scope
from store.models import AuditRecord, Base

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
KEY = b"k" * 32


@pytest.fixture(autouse=True)
def _audit_key() -> Iterator[None]:
    saved = list(audit._keys)
    audit.configure_keys([KEY])
    yield
    audit.configure_keys(saved)


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


def _legacy_row(prev: str, i: int) -> AuditRecord:
    """A record as written before the chain was keyed (plain SHA-256)."""
    at = NOW - dt.timedelta(days=1, seconds=-i)
    fields = dict(partnership_id=1, at=at, actor="UOLD", action="view", reference=None, detail="")
    digest = audit.compute_hash(prev, **fields)  # type: ignore[arg-type]
    return AuditRecord(
        partnership_id=1,
        at=at,
        actor="UOLD",
        action="view",
        referral_reference=None,
        detail="",
        prev_hash=prev,
        hash=digest,
        hash_scheme="sha256",
    )


def test_a_chain_from_before_the_upgrade_verifies_and_continues_keyed(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        prev = audit.GENESIS_HASH
        for i in range(3):
            row = _legacy_row(prev, i)
            s.add(row)
            prev = row.hash
        s.flush()
        _append(s, 2)
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert result.ok and result.count == 5, result.message
        schemes = s.scalars(select(AuditRecord.hash_scheme).order_by(AuditRecord.id)).all()
        assert schemes == ["sha256"] * 3 + ["hmac"] * 2
    engine.dispose()


def test_keyed_records_need_the_key(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        _append(s, 3)
    audit.configure_keys([b"another key entirely, 32 bytes!!"])
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert not result.ok and result.first_bad_id == 1
    # Keys listed newest first: an older key still verifies what it signed.
    audit.configure_keys([b"another key entirely, 32 bytes!!", KEY])
    with session_scope(factory) as s:
        assert audit.verify_chain(s).ok
    engine.dispose()


def test_an_unkeyed_record_after_keyed_ones_is_refused(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        _append(s, 2)
        head = audit.verify_chain(s).head
        s.add(_legacy_row(head, 9))
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert not result.ok and result.first_bad_id == 3
    engine.dispose()


def test_the_head_is_anchored_by_count_and_hash(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    with session_scope(factory) as s:
        _append(s, 4)
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        anchor = (result.count, result.head)
        assert audit.verify_chain(s, expect=anchor).ok
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE id = 4"))
    with session_scope(factory) as s:
        assert audit.verify_chain(s).ok  # a cut chain is still a chain
        cut = audit.verify_chain(s, expect=anchor)
        assert not cut.ok and "removed" in cut.message
    engine.dispose()


def test_without_any_key_refusals_are_still_audited_unkeyed(tmp_path: Path) -> None:
    engine, factory = _factory(tmp_path)
    audit.configure_keys([])
    with session_scope(factory) as s:
        _append(s, 2)
    with session_scope(factory) as s:
        assert audit.verify_chain(s).ok
        assert set(s.scalars(select(AuditRecord.hash_scheme))) == {"sha256"}
    audit.configure_keys([KEY])
    with session_scope(factory) as s:
        _append(s, 1)
    with session_scope(factory) as s:
        assert audit.verify_chain(s).ok  # keyed from the moment a key is set
    audit.configure_keys([])
    with session_scope(factory) as s:
        result = audit.verify_chain(s)
        assert not result.ok and "no audit key is set" in result.message
    engine.dispose()
