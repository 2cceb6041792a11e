"""Delivery row records: claims under a lease, in-flight marks, settling each row (the SQL).

A row is *claimed* (marked ``in_flight`` under a lease, ``claimed_until``, and committed)
before Slack is called. A claim holds the row only while the stored lease still equals
the one it set (:func:`owned`): a row another process re-leased after this one outran
its lease is neither posted nor settled here. On PostgreSQL claims lock with ``FOR
UPDATE SKIP LOCKED``; on SQLite the mark is a compare-and-set update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from store.db import session_scope
from store.models import Delivery, DeliveryStatus

LEASE = dt.timedelta(minutes=5)
BATCH = 1000


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    target: str
    partnership_id: int
    slack_channel: str | None
    reconcile: bool  # left in flight by an earlier process: look before resending
    created_at: dt.datetime
    # The row's ``claimed_until`` as this claim set it: the claim holds the row only
    # while the stored lease still equals it. A row re-leased by another process
    # (because this one outran its lease) is not posted or settled by this one.
    lease: dt.datetime


def owned(row: Claimed) -> tuple[Any, ...]:
    """WHERE conditions that hold only while ``row`` is still this claim's to settle."""
    return (
        Delivery.id == row.id,
        Delivery.status == DeliveryStatus.IN_FLIGHT,
        Delivery.claimed_until == row.lease,
    )


def _due(now: dt.datetime) -> ColumnElement[bool]:
    """Pending rows whose time has come, and rows left in flight whose lease ran out."""
    due = (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now)
    stale = (Delivery.status == DeliveryStatus.IN_FLIGHT) & (Delivery.claimed_until < now)
    return due | stale


def anything_due(sessions: sessionmaker[Session], now: dt.datetime) -> bool:
    """Whether a claim at ``now`` would find a row to take (a cheap look, no lock)."""
    with session_scope(sessions) as session:
        return session.scalar(select(Delivery.id).where(_due(now)).limit(1)) is not None


def mark_in_flight(
    session: Session,
    ids: Sequence[int],
    now: dt.datetime,
    *,
    due_only: bool = True,
    lease: dt.timedelta = LEASE,
) -> set[int]:
    """Mark pending rows ``ids`` in flight under a lease from ``now``; returns the ids taken.

    A compare-and-set (SQLite has no row locks): only rows still pending (and, with
    ``due_only``, due by ``now``) are taken, each counting one attempt; a row another
    process claimed or settled meanwhile is left alone. The caller commits, and must
    do so *before* posting: a row in flight whose lease runs out is looked for in
    ``conversations.history`` by the next claim before it is posted again.
    """
    wanted = Delivery.status == DeliveryStatus.PENDING
    if due_only:
        wanted = wanted & (Delivery.next_attempt_at <= now)
    taken: set[int] = set()
    for i in range(0, len(ids), 500):
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(ids[i : i + 500])), wanted)
            .values(
                status=DeliveryStatus.IN_FLIGHT,
                claimed_until=now + lease,
                attempts=Delivery.attempts + 1,
            )
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        taken.update(result.scalars())
    return taken


def claim(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    *,
    limit: int = BATCH,
    per_target: int | None = None,
    partnership_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
) -> list[Claimed]:
    """Take due rows for this process, mark them in flight and commit, all in one go.

    Due rows are pending rows whose ``next_attempt_at`` has come, and rows left
    ``in_flight`` by a process that died (their lease ran out). ``per_target`` caps the
    rows taken for any one target (channel or user), so one busy channel cannot fill a
    batch that would outlive its lease while other channels wait. Rows are marked in
    flight with one statement per kind of row (pending, or left in flight by a dead
    process) and one commit for the batch. ``kinds`` takes only rows of those kinds.
    """
    wanted = _due(now)
    if partnership_ids is not None:
        wanted = wanted & Delivery.partnership_id.in_(list(partnership_ids))
    if kinds is not None:
        wanted = wanted & Delivery.kind.in_(list(kinds))
    claimed: list[Claimed] = []
    with session_scope(sessions) as session:
        on_pg = session.get_bind().dialect.name == "postgresql"
        query = select(
            Delivery.id,
            Delivery.key,
            Delivery.kind,
            Delivery.target,
            Delivery.partnership_id,
            Delivery.slack_channel,
            Delivery.status,
            Delivery.claimed_until,
            Delivery.created_at,
        )
        if per_target is not None:
            rank = (
                func.row_number()
                .over(
                    partition_by=Delivery.target,
                    order_by=(Delivery.next_attempt_at, Delivery.id),
                )
                .label("rank")
            )
            ranked = select(Delivery.id, rank).where(wanted).subquery()
            first = select(ranked.c.id).where(ranked.c.rank <= per_target)
            query = query.where(Delivery.id.in_(first), wanted)
        else:
            query = query.where(wanted)
        query = query.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
        if on_pg:
            # Locks the rows read here; rows another process holds are skipped.
            query = query.with_for_update(skip_locked=True, of=Delivery)
        rows = session.execute(query).all()
        lease = now + LEASE
        pending_ids = [r.id for r in rows if r.status == DeliveryStatus.PENDING]
        taken = mark_in_flight(session, pending_ids, now, lease=LEASE)
        for r in rows:
            if r.status != DeliveryStatus.IN_FLIGHT:
                continue
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == r.id,
                    Delivery.status == DeliveryStatus.IN_FLIGHT,
                    Delivery.claimed_until == r.claimed_until,
                )
                .values(claimed_until=lease)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
            taken.update(result.scalars())
        for r in rows:
            if r.id in taken:
                claimed.append(
                    Claimed(
                        id=r.id,
                        key=r.key,
                        kind=r.kind,
                        target=r.target,
                        partnership_id=r.partnership_id,
                        slack_channel=r.slack_channel,
                        reconcile=r.status == DeliveryStatus.IN_FLIGHT,
                        created_at=r.created_at,
                        lease=lease,
                    )
                )
    return claimed


def claim_keys(
    sessions: sessionmaker[Session], keys: Sequence[str], now: dt.datetime
) -> dict[str, Claimed]:
    """Mark the pending rows with these keys in flight and commit; returns those taken."""
    lease = now + LEASE
    with session_scope(sessions) as session:
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.key,
                Delivery.kind,
                Delivery.target,
                Delivery.partnership_id,
                Delivery.slack_channel,
                Delivery.created_at,
            ).where(Delivery.key.in_(list(keys)))
        ).all()
        taken = mark_in_flight(session, [r.id for r in rows], now, due_only=False, lease=LEASE)
    return {
        r.key: Claimed(
            id=r.id,
            key=r.key,
            kind=r.kind,
            target=r.target,
            partnership_id=r.partnership_id,
            slack_channel=r.slack_channel,
            reconcile=False,
            created_at=r.created_at,
            lease=lease,
        )
        for r in rows
        if r.id in taken
    }


def owned_delivery(session: Session, row: Claimed) -> Delivery | None:
    """The row itself while ``row``'s claim still holds it, else None."""
    return session.scalars(select(Delivery).where(*owned(row))).one_or_none()


def attempts_of(sessions: sessionmaker[Session], row_id: int) -> int:
    with session_scope(sessions) as session:
        value = session.scalar(select(Delivery.attempts).where(Delivery.id == row_id))
        return int(value or 0)


def settle(
    sessions: sessionmaker[Session], row: Claimed, *, attempts_delta: int = 0, **values: Any
) -> None:
    """Settle ``row`` with ``values`` in its own commit, only while this claim holds it."""
    with session_scope(sessions) as session:
        if attempts_delta:
            values["attempts"] = Delivery.attempts + attempts_delta
        session.execute(
            update(Delivery)
            .where(*owned(row))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def record_sent(
    sessions: sessionmaker[Session], row: Claimed, channel: str, ts: str | None, at: dt.datetime
) -> None:
    """Record one posted row as sent, in its own commit (only while the claim holds it)."""
    with session_scope(sessions) as session:
        session.execute(
            update(Delivery)
            .where(*owned(row))
            .values(
                status=DeliveryStatus.SENT,
                slack_channel=channel,
                slack_ts=ts,
                sent_at=at,
                claimed_until=None,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )


# Only while the claim still holds the row (its lease unchanged): a worker that outran
# its lease never overwrites the outcome of the process that re-leased the row.
_SENT_UPDATE = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("row_id"),
        Delivery.status == DeliveryStatus.IN_FLIGHT,
        Delivery.claimed_until == bindparam("lease"),
    )
    .values(
        status=DeliveryStatus.SENT,
        slack_channel=bindparam("channel"),
        slack_ts=bindparam("ts"),
        sent_at=bindparam("at"),
        claimed_until=None,
        last_error=None,
    )
    .execution_options(synchronize_session=False)
)


def sent_values(row: Claimed, channel: str, ts: str | None, at: dt.datetime) -> dict[str, Any]:
    """One posted row's parameters for :func:`record_sent_rows`."""
    return {"row_id": row.id, "lease": row.lease, "channel": channel, "ts": ts, "at": at}


def record_sent_rows(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> None:
    """Record many posted rows (:func:`sent_values`) as sent in one commit."""
    with session_scope(sessions) as session:
        session.connection().execute(_SENT_UPDATE, rows)


def release(
    sessions: sessionmaker[Session],
    rows: Sequence[Claimed],
    now: dt.datetime,
    *,
    not_before: dt.datetime | None = None,
) -> None:
    """Give back rows not tried this sweep, without counting an attempt, in one commit."""
    if not rows:
        return
    with session_scope(sessions) as session:
        for row in rows:
            if row.reconcile:
                # Look for it again next sweep (after Retry-After, if one was asked).
                values: dict[str, Any] = {"claimed_until": max(now, not_before or now)}
            else:
                values = {
                    "status": DeliveryStatus.PENDING,
                    "claimed_until": None,
                    "attempts": Delivery.attempts - 1,
                }
                if not_before is not None:
                    values["next_attempt_at"] = not_before
            session.execute(
                update(Delivery)
                .where(*owned(row))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def hurry(sessions: sessionmaker[Session], kinds: frozenset[str], now: dt.datetime) -> int:
    """Make pending rows of ``kinds`` that are backing off due now (not those waiting
    out a 429's Retry-After); returns how many."""
    with session_scope(sessions) as session:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.kind.in_(sorted(kinds)),
                Delivery.next_attempt_at > now,
                Delivery.attempts > 0,
                func.coalesce(Delivery.last_error, "") != "ratelimited",
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def where_sent(sessions: sessionmaker[Session], key: str) -> tuple[str | None, str | None]:
    """The channel and ``ts`` recorded for the row ``key`` (None, None if no such row)."""
    with session_scope(sessions) as session:
        row = session.execute(
            select(Delivery.slack_channel, Delivery.slack_ts).where(Delivery.key == key)
        ).one_or_none()
    return (row[0], row[1]) if row else (None, None)


def last_error_of(sessions: sessionmaker[Session], key: str) -> str | None:
    with session_scope(sessions) as session:
        return session.scalar(select(Delivery.last_error).where(Delivery.key == key))


def pending_due(session: Session, now: dt.datetime, *, limit: int = 500) -> Sequence[Delivery]:
    """Pending rows due by ``now``, oldest first (what a dry run would send)."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    ).all()
