"""Field encryption for safeguarding referrals (Fernet, several keys newest first).

``CSP_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys, newest
first: new tokens use the first key, every listed key can still decrypt, and
:func:`rotate_all` re-encrypts stored tokens under the newest key so older keys
can then be retired.

The process keeps one active cipher, set by :func:`configure` (the start-up
check :func:`verify_referral_key` sets it too). Tokens never appear in messages:
errors raised here name the variable and say what to do, never the data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

from bot.referrals import availability, queries
from bot.settings import ConfigError

ENCRYPTED_REFERRAL_COLUMNS = (
    "subject_enc",
    "concern_enc",
    "referrer_enc",
    "consent_enc",
    "actions_enc",
    "outcome_enc",
)


class DecryptError(Exception):
    """A stored token could not be decrypted with any configured key."""


def generate_key() -> str:
    """A new Fernet key (URL-safe base64 text) for ``CSP_ENCRYPTION_KEY``."""
    return Fernet.generate_key().decode("ascii")


class Cipher:
    """JSON documents in, Fernet tokens out; decrypts with any of its keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError(
                "CSP_ENCRYPTION_KEY is not set; make a key with `csp-bot keys generate`."
            )
        try:
            self._fernets = [Fernet(k.strip().encode("ascii")) for k in keys]
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                "CSP_ENCRYPTION_KEY is not a Fernet key (make one with `csp-bot keys generate`)."
            ) from None
        self._multi = MultiFernet(self._fernets)

    @property
    def key_count(self) -> int:
        return len(self._fernets)

    def encrypt_json(self, obj: Any) -> bytes:
        # ensure_ascii keeps every character (emoji, right-to-left text, lone
        # surrogates from odd JSON) representable as bytes.
        text = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
        return self._multi.encrypt(text.encode("ascii"))

    def decrypt_json(self, token: bytes) -> Any:
        try:
            plain = self._multi.decrypt(token)
        except InvalidToken:
            raise DecryptError(
                "a stored referral field cannot be decrypted with CSP_ENCRYPTION_KEY"
            ) from None
        return json.loads(plain.decode("ascii"))

    def rotate(self, token: bytes) -> bytes:
        """The same plaintext, re-encrypted under the newest key."""
        try:
            return self._multi.rotate(token)
        except InvalidToken:
            raise DecryptError(
                "a stored referral field cannot be decrypted with CSP_ENCRYPTION_KEY"
            ) from None

    def can_decrypt(self, token: bytes) -> bool:
        try:
            self._multi.decrypt(token)
        except InvalidToken:
            return False
        return True


_active: Cipher | None = None


def configure(keys: Sequence[str]) -> Cipher | None:
    """Set (or, with no keys, clear) the process's active cipher."""
    global _active  # one cipher per process, set at start-up
    _active = Cipher(keys) if keys else None
    return _active


def active_cipher() -> Cipher:
    if _active is None:
        raise ConfigError(
            "CSP_ENCRYPTION_KEY is not set, so safeguarding referrals are switched off; "
            "make a key with `csp-bot keys generate` and restart."
        )
    return _active


def is_configured() -> bool:
    return _active is not None


def _sample_tokens(session: Session, limit: int = 3) -> list[bytes]:
    """A few stored tokens (oldest and newest referrals) to test a key against."""
    tokens: list[bytes] = []
    for newest_first in (False, True):
        for ref in queries.referrals_with_tokens(
            session, ENCRYPTED_REFERRAL_COLUMNS, newest_first=newest_first, limit=limit
        ):
            for column in ENCRYPTED_REFERRAL_COLUMNS:
                token = getattr(ref, column)
                if token is not None:
                    tokens.append(token)
                    break
    return tokens


def verify_referral_key(session: Session, keys: list[str]) -> None:
    """Stop start-up with one sentence if stored referrals cannot be read with ``keys``.

    With no stored referrals any (or no) key is accepted; with stored referrals and no
    key at all, start-up goes on with referrals unavailable (see
    :mod:`bot.referrals.availability`). On success the keys become the process's active
    cipher.
    """
    tokens = _sample_tokens(session)
    if tokens and not keys:
        # The plan, reminders and digest run; stored referrals are left alone until the
        # key is set (bot.referrals.availability), and start-up says so loudly.
        availability.lock(queries.count_referrals(session))
        configure([])
        return
    cipher = Cipher(keys) if keys else None
    if cipher is not None and not all(cipher.can_decrypt(t) for t in tokens):
        raise ConfigError(
            "CSP_ENCRYPTION_KEY cannot decrypt the stored safeguarding referrals; "
            "put the key they were encrypted with back in the list (newest first)."
        )
    configure(keys)


def rotate_all(session: Session, cipher: Cipher) -> int:
    """Re-encrypt every stored referral field and note under the newest key; returns the count."""
    count = 0
    for ref in queries.all_referrals(session):
        for column in ENCRYPTED_REFERRAL_COLUMNS:
            token = getattr(ref, column)
            if token is not None:
                setattr(ref, column, cipher.rotate(token))
                count += 1
    for note in queries.all_notes(session):
        if note.note_enc is not None:
            note.note_enc = cipher.rotate(note.note_enc)
            count += 1
    session.flush()
    return count
