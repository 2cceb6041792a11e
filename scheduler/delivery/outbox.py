"""The outbox: planned deliveries become rows once, and rows become Slack posts once.

* :func:`insert_planned` inserts one row per planned key (``ON CONFLICT DO NOTHING``
  on the unique key), so any number of sweeps and processes insert it once.
* :func:`claim` takes due rows: pending rows whose ``next_attempt_at`` has come, and
  rows left ``in_flight`` by a process that died (their lease ``claimed_until`` ran
  out), at most ``per_target`` per channel or user so a batch fits in its lease. On
  PostgreSQL it locks with ``FOR UPDATE SKIP LOCKED``; on SQLite the mark is a
  compare-and-set update. The whole batch is marked ``in_flight`` and committed in one
  transaction *before* Slack is called.
* :class:`Outbox.deliver` posts each claimed row with its key in the message
  ``metadata``, one lane per channel: a lane posts no sooner than
  ``per_channel_interval`` after Slack answered its previous post (kept per process
  across batches and sweeps by :data:`PACER`). Sent rows are recorded in small batched
  commits; until then they stay in flight. A row found ``in_flight`` after a crash, or
  whose post got no answer at all, is first looked for in ``conversations.history``;
  only if Slack has no message carrying its key is it sent again.

Posting and settling one row (the rules below) live in :mod:`scheduler.delivery.engine`,
shared with the handlers' immediate sends; this module adds claiming, lanes, pacing and
batched "sent" commits. Failures: 429 waits ``Retry-After`` (no attempt counted); 5xx
and network errors back off exponentially across sweeps; ``channel_not_found``,
``not_in_channel`` and other permanent errors fail the row with its reason and tell the admins once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from scheduler.delivery.engine import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    HISTORY_PAGES,
    LEASE,
    MAX_ATTEMPTS,
    PERMANENT_ERRORS,
    RECONCILE_LOOKBACK,
    TRANSIENT_ERRORS,
    Claimed,
    DeliveryEngine,
    DeliveryStats,
    FailureHook,
    ShiftedClock,
    Verdict,
    backoff,
    classify,
    existing_keys,
    insert_planned,
    mark_in_flight,
    owned,
)
from store.db import session_scope
from store.models import Delivery, DeliveryStatus

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "BATCH",
    "EXPECTED_CALL_SECONDS",
    "HISTORY_PAGES",
    "LEASE",
    "MAX_ATTEMPTS",
    "PACER",
    "PERMANENT_ERRORS",
    "RECONCILE_LOOKBACK",
    "TRANSIENT_ERRORS",
    "ChannelPacer",
    "Claimed",
    "FailureHook",
    "Outbox",
    "OutboxStats",
    "Verdict",
    "backoff",
    "claim",
    "classify",
    "existing_keys",
    "insert_planned",
    "mark_in_flight",
]

log = logging.getLogger(__name__)

BATCH = 1000
# What one chat.postMessage is expected to take, answer included (seconds). A batch
# is sized so its workers get through it in half a lease at this pace (see
# :meth:`Outbox.batch_cap`): a batch that outran its lease would be re-leased by
# another sweeper while this one still works through it.
EXPECTED_CALL_SECONDS = 0.5
RECORD_BATCH = 50  # sent rows recorded per commit
RECORD_WAIT = 0.05  # seconds a sent row may wait for others to share its commit

OutboxStats = DeliveryStats


# --------------------------------------------------------------------------- claim


def claim(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    *,
    limit: int = BATCH,
    per_target: int | None = None,
    partnership_ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Take due rows for this process, mark them in flight and commit, all in one go.

    ``per_target`` caps the rows taken for any one target (channel or user), so one
    busy channel cannot fill a batch that would outlive its lease while other channels
    wait. Rows are marked in flight with one statement per kind of row (pending, or
    left in flight by a dead process) and one commit for the batch.
    """
    due = (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now)
    stale = (Delivery.status == DeliveryStatus.IN_FLIGHT) & (Delivery.claimed_until < now)
    wanted = due | stale
    if partnership_ids is not None:
        wanted = wanted & Delivery.partnership_id.in_(list(partnership_ids))
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


# --------------------------------------------------------------------------- deliver


class ChannelPacer:
    """When each target may next be posted to, shared by every outbox in a process.

    Spacing runs from the moment Slack *answered* the previous post to that target (a
    post is received by Slack before it answers, so the gap Slack sees is never shorter
    than the one kept here), and it carries over from one batch, sweep and ``Outbox`` to
    the next. (A 429's ``Retry-After`` is kept in the rows' ``next_attempt_at``.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: dict[str, float] = {}

    def ready_at(self, target: str, interval: float) -> float:
        with self._lock:
            answered = self._answered.get(target)
        return answered + interval if answered is not None else 0.0

    def answered(self, target: str, at: float) -> None:
        with self._lock:
            self._answered[target] = at
            if len(self._answered) > 50_000:  # forget targets not posted to for long
                cutoff = at - 3600.0
                for key in [k for k, v in self._answered.items() if v < cutoff]:
                    del self._answered[key]

    def reset(self) -> None:
        with self._lock:
            self._answered.clear()


PACER = ChannelPacer()

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


class _SentRecorder:
    """Writes "sent" rows in small batched commits, off the posting threads.

    Until its batch commits a row stays ``in_flight`` under its lease; if the process
    dies first, the next process finds the message by its metadata key in
    ``conversations.history`` and records it instead of posting again.
    """

    def __init__(self, sessions: sessionmaker[Session], *, size: int, wait: float) -> None:
        self.sessions = sessions
        self.size = size
        self.wait = wait
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="outbox-recorder", daemon=True)
        self._thread.start()

    def sent(self, row: Claimed, channel: str, ts: str | None, at: dt.datetime) -> None:
        self._queue.put(
            {"row_id": row.id, "lease": row.lease, "channel": channel, "ts": ts, "at": at}
        )

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        pending: list[dict[str, Any]] = []
        closing = False
        while not closing:
            item = self._queue.get()
            if item is None:
                closing = True
            else:
                pending.append(item)
                deadline = time.monotonic() + self.wait
                while len(pending) < self.size:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        more = self._queue.get(timeout=left)
                    except queue.Empty:
                        break
                    if more is None:
                        closing = True
                        break
                    pending.append(more)
            if pending:
                self._flush(pending)
                pending = []

    def _flush(self, rows: list[dict[str, Any]]) -> None:
        try:
            with session_scope(self.sessions) as session:
                session.connection().execute(_SENT_UPDATE, rows)
        except Exception:
            # The posts stand; their rows stay in flight and are reconciled from
            # Slack's history once the lease runs out, never posted again.
            log.exception("could not record %d sent deliveries; they will be reconciled", len(rows))


class Outbox(DeliveryEngine):
    """Delivers due rows with a Slack WebClient; one instance per process is fine.

    Every time it needs (a claim's lease, a back-off, "sent at") is read from ``clock``
    when it is needed, so the rounds of a long run are leased from their own start.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        clock: Clock | None = None,
        per_channel_interval: float = 1.0,
        workers: int = 4,
        on_permanent_failure: FailureHook | None = None,
        pacer: ChannelPacer | None = None,
        batch: int = BATCH,
    ) -> None:
        super().__init__(sessions, client, clock=clock, on_permanent_failure=on_permanent_failure)
        self.per_channel_interval = per_channel_interval
        self.workers = workers
        self.pacer = pacer if pacer is not None else PACER
        self.batch = batch
        self._base_clock = self.clock

    # ---------------------------------------------------------------- public

    def batch_cap(self) -> int:
        """Rows per claim: at most ``workers x (LEASE / 2) / EXPECTED_CALL_SECONDS``.

        Half the lease is kept as a margin for slow answers and the sent-row commits;
        with the defaults (4 workers, a 5-minute lease, 0.5 s a call) that is 1200 rows,
        so ``BATCH`` (1000) applies; one worker would get 300. Rows a worker still holds
        when its lease runs out are not lost or posted twice (every post and settle
        checks the lease), but they wait for the next claim, so the cap keeps that from
        being the normal case.
        """
        fits = int(max(1, self.workers) * LEASE.total_seconds() / 2 / EXPECTED_CALL_SECONDS)
        return max(1, min(self.batch, fits))

    def per_target_cap(self) -> int:
        """Rows one target may take per batch: its posts must fit well inside a lease."""
        if self.per_channel_interval <= 0:
            return self.batch
        fits = int(LEASE.total_seconds() / 2 / self.per_channel_interval)
        return max(1, min(self.batch, fits))

    def run(
        self,
        now: dt.datetime | None = None,
        *,
        partnership_ids: Sequence[int] | None = None,
        max_rounds: int = 50,
    ) -> OutboxStats:
        """Claim and deliver until nothing due is left (or ``max_rounds`` batches).

        Each round is claimed at the clock's time when it starts (``now``, if given,
        sets what the clock reads at the start of the run; it runs on from there).
        """
        if now is not None:
            self.clock = ShiftedClock(self._base_clock, now)
        stats = OutboxStats()
        for _ in range(max_rounds):
            batch = claim(
                self.sessions,
                self.now(),
                limit=self.batch_cap(),
                per_target=self.per_target_cap(),
                partnership_ids=partnership_ids,
            )
            if not batch:
                break
            stats.add(self.deliver(batch))
        return stats

    def answered(self, target: str) -> None:
        self.pacer.answered(target, time.monotonic())

    def deliver(self, batch: Sequence[Claimed], now: dt.datetime | None = None) -> OutboxStats:
        """Post a claimed batch: one lane per target, lanes served by a pool of workers.

        A lane posts its rows in order, each no sooner than ``per_channel_interval``
        after Slack answered the lane's previous post; a worker only takes a lane whose
        turn has come, so no worker sleeps on a lane while another one is ready.
        """
        if now is not None:
            self.clock = ShiftedClock(self._base_clock, now)
        stats = OutboxStats()
        self.forget_history()
        queues: dict[str, deque[Claimed]] = defaultdict(deque)
        for row in batch:
            queues[row.target].append(row)
        interval = self.per_channel_interval
        heap: list[tuple[float, int, str]] = [
            (self.pacer.ready_at(target, interval), seq, target)
            for seq, target in enumerate(queues)
        ]
        heapq.heapify(heap)
        counter = [len(heap)]
        busy = [0]
        cond = threading.Condition()
        recorder = _SentRecorder(self.sessions, size=RECORD_BATCH, wait=RECORD_WAIT)

        def next_lane() -> str | None:
            with cond:
                while True:
                    if heap:
                        wait = heap[0][0] - time.monotonic()
                        if wait <= 0:
                            busy[0] += 1
                            return heapq.heappop(heap)[2]
                        cond.wait(timeout=wait)
                    elif busy[0] == 0:
                        return None
                    else:
                        cond.wait()

        def worker() -> None:
            while (target := next_lane()) is not None:
                lane = queues[target]
                row = lane.popleft()
                local = OutboxStats()
                try:
                    outcome = self.deliver_one(row, local, recorder.sent)
                except BaseException:  # keep the other channels going
                    log.exception("delivery %s crashed", row.key)
                    outcome = "stop"
                if outcome == "stop":
                    try:
                        # After a 429 the rest of the channel waits out Retry-After too.
                        at = self.now()
                        wait = dt.timedelta(seconds=local.retry_after)
                        later = at + wait if local.retry_after else None
                        self._release(list(lane), at, local, not_before=later)
                    except Exception:  # rows stay in flight; their lease runs out
                        log.exception("could not release the rest of lane %s", target)
                    lane.clear()
                with cond:
                    stats.add(local)
                    busy[0] -= 1
                    if lane:
                        ready = self.pacer.ready_at(target, interval) if outcome == "posted" else 0
                        counter[0] += 1
                        heapq.heappush(heap, (ready, counter[0], target))
                    cond.notify_all()

        threads = [
            threading.Thread(target=worker, name=f"outbox-{i}", daemon=True)
            for i in range(max(1, min(self.workers, len(queues))))
        ]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            recorder.close()
        return stats

    def _release(
        self,
        rows: Sequence[Claimed],
        now: dt.datetime,
        stats: OutboxStats,
        *,
        not_before: dt.datetime | None = None,
    ) -> None:
        """Give back rows not tried this sweep, without counting an attempt, in one commit."""
        if not rows:
            return
        with session_scope(self.sessions) as session:
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
