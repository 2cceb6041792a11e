"""The outbox: claim rounds of due rows, and the workers that post them lane by lane.

* :func:`scheduler.delivery.records.claim` takes due rows: pending rows whose
  ``next_attempt_at`` has come, and rows left ``in_flight`` by a process that died,
  at most a few per channel or user so a batch fits in its lease. The whole batch is
  marked ``in_flight`` and committed in one transaction *before* Slack is called.
* :class:`Outbox.deliver` posts each claimed row with its key in the message
  ``metadata``, one lane per channel (:mod:`scheduler.delivery.lanes`): a lane posts
  no sooner than ``per_channel_interval`` after Slack answered its previous post (kept
  per process across batches and sweeps by :data:`scheduler.delivery.lanes.PACER`).
  Sent rows are recorded in small batched commits; until then they stay in flight. A
  row found ``in_flight`` after a crash, or whose post got no answer at all, is first
  looked for in ``conversations.history``; only if Slack has no message carrying its
  key is it sent again.

Posting and settling one row live in :mod:`scheduler.delivery.engine`, shared with the
handlers' immediate sends. Failures: 429 waits ``Retry-After`` (no attempt counted); 5xx
and network errors back off exponentially across sweeps; ``channel_not_found``,
``not_in_channel`` and other permanent errors fail the row with its reason and tell the
admins once.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from scheduler.delivery.engine import DeliveryEngine, FailureHook
from scheduler.delivery.lanes import PACER, ChannelPacer, Lanes
from scheduler.delivery.records import (
    BATCH,
    LEASE,
    Claimed,
    claim,
    hurry,
    record_sent_rows,
    release,
    sent_values,
)
from scheduler.delivery.stats import DeliveryStats
from scheduler.delivery.verdicts import URGENT_KINDS
from scheduler.shifted_clock import ShiftedClock

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

# What one chat.postMessage is expected to take, answer included (seconds). A batch
# is sized so its workers get through it in half a lease at this pace (see
# :meth:`Outbox.batch_cap`): a batch that outran its lease would be re-leased by
# another sweeper while this one still works through it.
EXPECTED_CALL_SECONDS = 0.5
RECORD_BATCH = 50  # sent rows recorded per commit
RECORD_WAIT = 0.05  # seconds a sent row may wait for others to share its commit


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
        self._queue.put(sent_values(row, channel, ts, at))

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
            record_sent_rows(self.sessions, rows)
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
        kinds: Sequence[str] | None = None,
        max_rounds: int = 50,
    ) -> DeliveryStats:
        """Claim and deliver until nothing due is left (or ``max_rounds`` batches).

        Each round is claimed at the clock's time when it starts (``now``, if given,
        sets what the clock reads at the start of the run; it runs on from there).
        ``kinds`` limits the run to rows of those kinds.
        """
        if now is not None:
            self.clock = ShiftedClock(self._base_clock, now)
        stats = DeliveryStats()
        hurried = False
        for _ in range(max_rounds):
            batch = claim(
                self.sessions,
                self.now(),
                limit=self.batch_cap(),
                per_target=self.per_target_cap(),
                partnership_ids=partnership_ids,
                kinds=kinds,
            )
            if not batch:
                break
            done = self.deliver(batch)
            stats.add(done)
            if done.sent and not hurried:
                # Slack answers again: alerts backing off from an outage go now, in
                # the next round, not when their back-off runs out. Once a run, so an
                # alert whose own channel still fails is not retried round after round.
                hurried = hurry(self.sessions, URGENT_KINDS, self.now()) > 0
        return stats

    def answered(self, target: str) -> None:
        self.pacer.answered(target, time.monotonic())

    def deliver(self, batch: Sequence[Claimed], now: dt.datetime | None = None) -> DeliveryStats:
        """Post a claimed batch: one lane per target, lanes served by a pool of workers."""
        if now is not None:
            self.clock = ShiftedClock(self._base_clock, now)
        self.history.forget()
        lanes = Lanes(batch, self.pacer, self.per_channel_interval)
        recorder = _SentRecorder(self.sessions, size=RECORD_BATCH, wait=RECORD_WAIT)

        def worker() -> None:
            while (target := lanes.take()) is not None:
                lane = lanes.queues[target]
                row = lane.popleft()
                local = DeliveryStats()
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
                        release(self.sessions, list(lane), at, not_before=later)
                    except Exception:  # rows stay in flight; their lease runs out
                        log.exception("could not release the rest of lane %s", target)
                    lane.clear()
                lanes.put_back(target, posted=outcome == "posted", stats=local)

        threads = [
            threading.Thread(target=worker, name=f"outbox-{i}", daemon=True)
            for i in range(max(1, min(self.workers, len(lanes))))
        ]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            recorder.close()
        return lanes.stats
