"""Planned deliveries become outbox rows once: keyed inserts that leave a known key alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deliveries import PlannedDelivery
from store.models import Delivery, DeliveryStatus


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = list(keys[i : i + 500])
        found.update(session.scalars(select(Delivery.key).where(Delivery.key.in_(chunk))))
    return found


def _row_values(
    partnership_id: int, p: PlannedDelivery, now: dt.datetime, late: bool
) -> dict[str, Any]:
    payload = dict(p.payload)
    if p.useful_until is not None:
        payload["useful_until"] = p.useful_until.astimezone(dt.UTC).isoformat()
    return {
        "partnership_id": partnership_id,
        "key": p.key,
        "kind": p.kind,
        "target": p.target,
        "occurrence": p.occurrence,
        "objective_id": p.objective_id,
        "meeting_id": p.meeting_id,
        "referral_id": p.referral_id,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "late": late,
        "payload": payload,
        "created_at": now,
    }


def insert_planned(
    session: Session,
    partnership_id: int,
    planned: Iterable[PlannedDelivery],
    now: dt.datetime,
    *,
    late_after: dt.timedelta = dt.timedelta(minutes=60),
) -> list[str]:
    """Insert rows for planned keys not yet known; returns the keys that were new.

    Notices whose useful window already closed are not inserted. A second insert of a
    key (this sweep, another sweep, another process) is a no-op (``ON CONFLICT DO
    NOTHING`` on the unique key).
    """
    by_key: dict[str, PlannedDelivery] = {}
    for p in planned:
        if p.occurrence > now:
            continue
        if p.useful_until is not None and now >= p.useful_until:
            continue
        by_key.setdefault(p.key, p)
    if not by_key:
        return []
    fresh = [k for k in by_key if k not in existing_keys(session, list(by_key))]
    if not fresh:
        return []
    rows = [
        _row_values(partnership_id, by_key[k], now, now - by_key[k].occurrence > late_after)
        for k in fresh
    ]
    # Only the INSERT of the database in use is imported (a dialect is heavy to load).
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt: Any = (
            postgresql.insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["key"])
        )
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    session.execute(stmt)
    return fresh
