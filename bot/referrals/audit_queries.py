"""Audit trail SQL: the append lock, the chain's head and the chain in order."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import Result, select, text
from sqlalchemy.orm import Session

from store.models import AuditRecord

# Any 64-bit constant, shared by every process appending to this database.
_PG_LOCK_KEY = 0x637370_61756474  # "csp" "audt"


def lock_chain(session: Session) -> None:
    """Take the lock that lets only one writer at a time append to the chain."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # A write statement makes pysqlite open the transaction and SQLite take
        # its write lock; from then on no other writer can append, and our
        # reads see the latest committed head.
        session.execute(text("UPDATE audit_record SET id = id WHERE id = -1"))


def head_hash(session: Session) -> str | None:
    """The hash of the newest record, or None for an empty chain."""
    return session.scalars(
        select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    ).first()


class ChainRow(Protocol):
    """One record's hashed fields and hashes, as :func:`chain_rows` yields them."""

    id: int
    partnership_id: int | None
    at: dt.datetime
    actor: str
    action: str
    referral_reference: str | None
    detail: str
    prev_hash: str
    hash: str
    hash_scheme: str


def chain_rows(
    session: Session,
) -> Result[int, int | None, dt.datetime, str, str, str | None, str, str, str, str]:
    """Every record's hashed fields and hashes, oldest first (read as they are walked)."""
    return session.execute(
        select(
            AuditRecord.id,
            AuditRecord.partnership_id,
            AuditRecord.at,
            AuditRecord.actor,
            AuditRecord.action,
            AuditRecord.referral_reference,
            AuditRecord.detail,
            AuditRecord.prev_hash,
            AuditRecord.hash,
            AuditRecord.hash_scheme,
        ).order_by(AuditRecord.id)
    )
