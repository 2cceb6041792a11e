"""Append-only, hash-chained audit of safeguarding referrals.

Every create, view, acknowledge, assign, refer-on, note, close, export, purge
and refused attempt writes one record: who, when, what, which reference, and a
short ``detail`` that never holds referral contents. Each record carries the
hash of the record before it, so :func:`verify_chain` detects an edited,
deleted or re-ordered record.

The chain is keyed: each hash is an HMAC-SHA256 under the audit key, which is kept
outside the database (``CSP_AUDIT_KEY``, or derived from ``CSP_ENCRYPTION_KEY``),
so nobody with only the database can rebuild the chain after changing it. Records
written before the chain was keyed (``hash_scheme`` "sha256") still verify, but
never after a keyed one. A chain cut at its newest end is still a chain: only the
head an operator kept from an earlier :func:`verify_chain` (its count and hash)
shows that records were removed from the end.

Appends are serialised so two writers can never both chain onto the same
predecessor: PostgreSQL takes a transaction-scoped advisory lock; SQLite takes
the database write lock (a no-op UPDATE) before reading the chain's head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.referrals import audit_queries
from bot.settings import Settings
from bot.text.numbers import plural
from store.models import AuditRecord, Partnership

GENESIS_HASH = "0" * 64
DETAIL_MAX = 500
# The column widths of store.models.AuditRecord: PostgreSQL refuses longer values.
ACTOR_MAX = 64
ACTION_MAX = 32
REFERENCE_MAX = 32
_DIGEST_CHARS = 8


def bounded(value: str, limit: int, *, ascii_only: bool = False) -> str:
    """``value`` as it may be audited: printable characters only, at most ``limit`` long.

    Anything else (control, format or, with ``ascii_only``, non-ASCII characters) becomes
    ``?``. A value that had to be altered ends in ``~`` and the start of its SHA-256, so
    two different forged values never read as the same audited one.
    """

    def keep(ch: str) -> bool:
        return ch.isprintable() and (ch.isascii() or not ascii_only)

    clean = "".join(ch if keep(ch) else "?" for ch in value)
    if clean == value and len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    return f"{clean[: limit - _DIGEST_CHARS - 1]}~{digest}"


LEGACY_SCHEME = "sha256"  # records written before the chain was keyed
KEYED_SCHEME = "hmac"
# Labels the audit key derived from a referral key, so it is never the referral key.
DERIVED_KEY_LABEL = b"csp-bot audit chain key v1"

_keys: list[bytes] = []  # newest first; set once per process by configure_keys


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    first_bad_id: int | None
    message: str
    head: str = GENESIS_HASH  # the newest record's hash (the genesis hash when empty)


def keys_from(settings: Settings) -> list[bytes]:
    """The audit keys, newest first: ``CSP_AUDIT_KEY``'s, else derived from the referral keys."""
    if settings.audit_key is not None:
        listed = settings.audit_key.get_secret_value().split(",")
        return [k.strip().encode("utf-8") for k in listed if k.strip()]
    return [
        hmac.new(k.encode("ascii"), DERIVED_KEY_LABEL, hashlib.sha256).digest()
        for k in settings.encryption_keys
    ]


def configure_keys(keys: Sequence[bytes]) -> None:
    """Set the process's audit keys (newest first; the first signs new records)."""
    global _keys  # one key list per process, set at start-up
    _keys = list(keys)


def _signing_key() -> bytes | None:
    """The key new records are signed with; None (unkeyed records) when no key is set.

    Without ``CSP_AUDIT_KEY`` and ``CSP_ENCRYPTION_KEY`` there are no referrals to
    protect, and refusals are still audited, unkeyed as before.
    """
    return _keys[0] if _keys else None


def _canonical_at(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be aware datetimes")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(
    prev_hash: str,
    *,
    partnership_id: int | None,
    at: dt.datetime,
    actor: str,
    action: str,
    reference: str | None,
    detail: str,
    key: bytes | None = None,
) -> str:
    """The record's hash: HMAC-SHA256 under ``key``, or plain SHA-256 (legacy) without one."""
    body = json.dumps(
        [prev_hash, partnership_id, _canonical_at(at), actor, action, reference, detail],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _head_hash(session: Session) -> str:
    last = audit_queries.head_hash(session)
    return last if last is not None else GENESIS_HASH


def record(
    session: Session,
    *,
    partnership_id: int | None,
    actor: str,
    action: str,
    reference: str | None,
    detail: str = "",
    now: dt.datetime,
) -> AuditRecord:
    """Append one record (flushed, committed by the caller's scope).

    ``detail`` is for non-sensitive facts only (a role, a count, a category);
    never pass referral contents. Every value is passed through :func:`bounded`,
    so a forged reference or an odd actor can never fail the insert.
    """
    detail = bounded(detail, DETAIL_MAX)
    actor = bounded(actor, ACTOR_MAX)
    action = bounded(action, ACTION_MAX, ascii_only=True)
    if reference is not None:
        reference = bounded(reference, REFERENCE_MAX, ascii_only=True)
    key = _signing_key()
    audit_queries.lock_chain(session)
    session.flush()  # our own pending records join the chain first
    prev = _head_hash(session)
    at = now.astimezone(dt.UTC)
    entry = AuditRecord(
        partnership_id=partnership_id,
        at=at,
        actor=actor,
        action=action,
        referral_reference=reference,
        detail=detail,
        prev_hash=prev,
        hash=compute_hash(
            prev,
            partnership_id=partnership_id,
            at=at,
            actor=actor,
            action=action,
            reference=reference,
            detail=detail,
            key=key,
        ),
        hash_scheme=LEGACY_SCHEME if key is None else KEYED_SCHEME,
    )
    session.add(entry)
    session.flush()
    return entry


def record_for(
    session: Session,
    partnership: Partnership,
    actor: str,
    action: str,
    reference: str | None,
    now: dt.datetime,
    detail: str = "",
) -> None:
    """:func:`record` for one partnership's referral, as the referral workflow writes it."""
    record(
        session,
        partnership_id=partnership.id,
        actor=actor,
        action=action,
        reference=reference,
        detail=detail,
        now=now,
    )


def _matches(row: audit_queries.ChainRow, keys: Sequence[bytes | None]) -> bool:
    for key in keys:
        expected = compute_hash(
            row.prev_hash,
            partnership_id=row.partnership_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            reference=row.referral_reference,
            detail=row.detail,
            key=key,
        )
        if hmac.compare_digest(expected, row.hash):
            return True
    return False


def verify_chain(session: Session, *, expect: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain in order and report the first broken link, if any.

    ``expect`` is a head kept from an earlier run (count, hash): the chain must still
    hold that record at that place, or records were removed from its end or it was
    replaced.
    """
    prev = GENESIS_HASH
    count = 0
    keyed_seen = False
    anchored = expect is None
    for row in audit_queries.chain_rows(session):
        count += 1
        if row.prev_hash != prev:
            return VerifyResult(
                False,
                count,
                row.id,
                f"Audit record {row.id} does not follow the record before it "
                "(a record was removed or re-ordered).",
            )
        legacy = row.hash_scheme == LEGACY_SCHEME
        if legacy and keyed_seen:
            return VerifyResult(
                False,
                count,
                row.id,
                f"Audit record {row.id} is not keyed but follows keyed records "
                "(it was written or rewritten without the audit key).",
            )
        keyed_seen = keyed_seen or not legacy
        if not legacy and not _keys:
            return VerifyResult(
                False,
                count,
                row.id,
                f"Audit record {row.id} is keyed, but no audit key is set: set "
                "CSP_AUDIT_KEY (or CSP_ENCRYPTION_KEY) as when it was written and run "
                "this again.",
            )
        keys: Sequence[bytes | None] = [None] if legacy else _keys
        if row.hash_scheme not in (LEGACY_SCHEME, KEYED_SCHEME) or not _matches(row, keys):
            return VerifyResult(
                False, count, row.id, f"Audit record {row.id} was changed after it was written."
            )
        prev = row.hash
        if expect is not None and count == expect[0]:
            if not hmac.compare_digest(row.hash, expect[1]):
                return VerifyResult(
                    False,
                    count,
                    row.id,
                    f"Audit record {row.id} is not the head you kept (record {expect[0]}): "
                    "the chain was replaced since then.",
                )
            anchored = True
    if expect is not None and not anchored:
        return VerifyResult(
            False,
            count,
            None,
            f"The audit chain has {plural(count, 'record')} but the head you kept was record "
            f"{expect[0]}: the newest records were removed.",
            prev,
        )
    noun = "record" if count == 1 else "records"
    kept = " It matches the head you kept." if expect is not None else ""
    return VerifyResult(
        True, count, None, f"The audit chain is intact ({count} {noun}).{kept}", prev
    )
