"""An audit chain written before the chain was keyed still verifies after the upgrade,
and the records written after it are keyed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import text

from bot.referrals import audit
from bot.settings import Settings
from store.db import make_engine, make_session_factory, session_scope
from store.schema import upgrade
from tests.dbutil import fresh_database_url

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
KEY = b"an audit key of at least 32 bytes"


def _insert_unkeyed(conn, n: int) -> None:  # type: ignore[no-untyped-def]
    """Records exactly as revision 0001's code wrote them: plain SHA-256, no scheme."""
    prev = audit.GENESIS_HASH
    for i in range(n):
        at = NOW + dt.timedelta(seconds=i)
        digest = audit.compute_hash(
            prev, partnership_id=1, at=at, actor="U1", action="view", reference=None, detail=""
        )
        conn.execute(
            text(
                "INSERT INTO audit_record (partnership_id, at, actor, action, "
                "referral_reference, detail, prev_hash, hash) "
                "VALUES (1, :at, 'U1', 'view', NULL, '', :prev, :hash)"
            ),
            {"at": at, "prev": prev, "hash": digest},
        )
        prev = digest


def test_an_unkeyed_chain_verifies_after_the_upgrade_and_continues_keyed(
    tmp_path: Path,
) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            _insert_unkeyed(conn, 3)
        upgrade(engine)
        audit.configure_keys([KEY])
        sessions = make_session_factory(engine)
        with session_scope(sessions) as s:
            assert audit.verify_chain(s).ok
            audit.record(s, partnership_id=1, actor="U2", action="view", reference=None, now=NOW)
        with session_scope(sessions) as s:
            result = audit.verify_chain(s)
            assert result.ok and result.count == 4, result.message
        with engine.connect() as conn:
            schemes = conn.execute(
                text("SELECT hash_scheme FROM audit_record ORDER BY id")
            ).scalars()
            assert list(schemes) == ["sha256", "sha256", "sha256", "hmac"]
    finally:
        engine.dispose()


def test_the_audit_key_is_its_own_setting_or_derived_with_a_label() -> None:
    fernet = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    derived = audit.keys_from(Settings(encryption_key=SecretStr(fernet)))  # type: ignore[call-arg]
    assert len(derived) == 1 and derived[0] != fernet.encode()
    own = Settings(  # type: ignore[call-arg]
        encryption_key=SecretStr(fernet), audit_key=SecretStr("x" * 40 + "," + "y" * 40)
    )
    assert audit.keys_from(own) == [b"x" * 40, b"y" * 40]
