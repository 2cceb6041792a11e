"""Append-only, hash-chained audit of safeguarding referrals.

Every create, view, acknowledge, assign, refer-on, note, close, export, purge
and refused attempt writes one record: who, when, what, which reference, and a
short ``detail`` that never holds referral contents. Each record carries the
hash of the record before it, so :func:`verify_chain` detects an edited,
deleted or re-ordered record.

Appends are serialised so two writers can never both chain onto the same
predecessor: PostgreSQL takes a transaction-scoped advisory lock; SQLite takes
the database write lock (a no-op UPDATE) before reading the chain's head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.referrals import audit_queries
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


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    first_bad_id: int | None
    message: str


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
) -> str:
    body = json.dumps(
        [prev_hash, partnership_id, _canonical_at(at), actor, action, reference, detail],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


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
        ),
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


def verify_chain(session: Session) -> VerifyResult:
    """Walk the whole chain in order and report the first broken link, if any."""
    prev = GENESIS_HASH
    count = 0
    rows = audit_queries.chain_rows(session)
    for row in rows:
        count += 1
        if row.prev_hash != prev:
            return VerifyResult(
                False,
                count,
                row.id,
                f"Audit record {row.id} does not follow the record before it "
                "(a record was removed or re-ordered).",
            )
        expected = compute_hash(
            row.prev_hash,
            partnership_id=row.partnership_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            reference=row.referral_reference,
            detail=row.detail,
        )
        if expected != row.hash:
            return VerifyResult(
                False, count, row.id, f"Audit record {row.id} was changed after it was written."
            )
        prev = row.hash
    noun = "record" if count == 1 else "records"
    return VerifyResult(True, count, None, f"The audit chain is intact ({count} {noun}).")
