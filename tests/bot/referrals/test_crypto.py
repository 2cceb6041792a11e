from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.referrals import availability, crypto
from bot.settings import ConfigError
from store.db import make_engine
from store.models import Base, Partnership, Referral

KEY_A = crypto.generate_key()
KEY_B = crypto.generate_key()
NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def test_round_trip_keeps_unicode_and_hides_plaintext() -> None:
    cipher = crypto.Cipher([KEY_A])
    doc = {"name": "Zara MARKER 😀 مرحبا", "n": 3}
    token = cipher.encrypt_json(doc)
    assert b"MARKER" not in token
    assert cipher.decrypt_json(token) == doc


def test_older_key_still_decrypts_and_rotate_moves_to_newest() -> None:
    old = crypto.Cipher([KEY_A])
    token = old.encrypt_json({"x": 1})
    both = crypto.Cipher([KEY_B, KEY_A])
    rotated = both.rotate(token)
    assert crypto.Cipher([KEY_B]).decrypt_json(rotated) == {"x": 1}
    with pytest.raises(crypto.DecryptError) as err:
        crypto.Cipher([KEY_B]).decrypt_json(token)
    assert "x" not in str(err.value).split()


def test_no_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="csp-bot keys generate"):
        crypto.Cipher([])


def _session(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    Base.metadata.create_all(engine)
    return Session(engine)


def _store(session: Session, cipher: crypto.Cipher) -> None:
    p = Partnership(name="P", plan_year=2026, settings={}, referral_seq=0, created_at=NOW)
    session.add(p)
    session.flush()
    session.add(
        Referral(
            partnership_id=p.id,
            reference="SG-2026-0001",
            submission_key="k",
            subject_group="child",
            category="neglect",
            urgency="routine",
            referrer_slack_id="U1",
            created_at=NOW,
            subject_enc=cipher.encrypt_json({"name": "A"}),
        )
    )
    session.flush()


def test_verify_referral_key(tmp_path: Path) -> None:
    session = _session(tmp_path)
    crypto.verify_referral_key(session, [])  # nothing stored: no key needed
    _store(session, crypto.Cipher([KEY_A]))
    # Stored referrals and no key: start-up goes on, with referrals locked away.
    availability.set_key(False)
    try:
        crypto.verify_referral_key(session, [])
        assert not crypto.is_configured() and availability.locked_referrals() == 1
    finally:
        availability.set_key(True)
    with pytest.raises(ConfigError, match="cannot decrypt"):
        crypto.verify_referral_key(session, [KEY_B])
    crypto.verify_referral_key(session, [KEY_B, KEY_A])
    assert crypto.is_configured()
    assert crypto.rotate_all(session, crypto.Cipher([KEY_B, KEY_A])) == 1
    crypto.verify_referral_key(session, [KEY_B])
    session.close()
