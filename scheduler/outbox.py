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

Failures: 429 waits ``Retry-After`` (no attempt counted); 5xx and network errors back
off exponentially across sweeps; ``channel_not_found``, ``not_in_channel`` and other
permanent errors fail the row with its reason and tell the admins once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.deliveries import (
    METADATA_EVENT_TYPE,
    OutboundMessage,
    PlannedDelivery,
    delivery_metadata,
    renderer_for,
)
from store.db import session_scope
from store.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
BATCH = 1000
RECORD_BATCH = 50  # sent rows recorded per commit
RECORD_WAIT = 0.05  # seconds a sent row may wait for others to share its commit
MAX_ATTEMPTS = 30
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
HISTORY_PAGES = 10
RECONCILE_LOOKBACK = dt.timedelta(days=1)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "users_not_found",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "access_denied",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "not_allowed_token_type",
    }
)
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "rate_limited" | "transient" | "permanent"
    reason: str
    retry_after: float | None = None


def classify(exc: BaseException) -> Verdict:
    """Sort a Slack or network failure into what the outbox should do about it."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
            raw = headers.get("retry-after")
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            try:
                retry_after = float(raw) if raw is not None else 30.0
            except ValueError:
                retry_after = 30.0
            return Verdict("rate_limited", "ratelimited", max(retry_after, 1.0))
        if status >= 500 or error in TRANSIENT_ERRORS:
            return Verdict("transient", error)
        if error in PERMANENT_ERRORS or status in (400, 401, 403, 404, 410):
            return Verdict("permanent", error)
        return Verdict("permanent", error)
    return Verdict("transient", type(exc).__name__)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour (attempts counts failures so far)."""
    step: dt.timedelta = BACKOFF_BASE * (2 ** max(0, min(attempts - 1, 12)))
    return min(step, BACKOFF_MAX)


@dataclass
class OutboxStats:
    inserted: int = 0
    sent: int = 0
    reconciled: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    sent_keys: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    retry_after: float = 0.0  # longest Retry-After Slack asked for (seconds)

    def add(self, other: OutboxStats) -> None:
        self.inserted += other.inserted
        self.sent += other.sent
        self.reconciled += other.reconciled
        self.rate_limited += other.rate_limited
        self.retried += other.retried
        self.failed += other.failed
        self.dropped += other.dropped
        self.sent_keys.extend(other.sent_keys)
        self.failures.extend(other.failures)
        self.retry_after = max(self.retry_after, other.retry_after)


# --------------------------------------------------------------------------- insert


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
    key (this sweep, another sweep, another process) is a no-op.
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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = (
            postgresql.insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["key"])
        )
    elif dialect == "sqlite":
        stmt = sqlite.insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    session.execute(stmt)
    return fresh


# --------------------------------------------------------------------------- claim


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
        taken = mark_in_flight(session, pending_ids, now)
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
                    )
                )
    return claimed


# --------------------------------------------------------------------------- deliver


def _blocks_json(blocks: Sequence[Block | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


FailureHook = Callable[[Session, int, str, str, str, dt.datetime], list[PlannedDelivery]]


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

_SENT_UPDATE = (
    update(Delivery)
    .where(Delivery.id == bindparam("row_id"))
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

    def sent(self, row_id: int, channel: str, ts: str | None, at: dt.datetime) -> None:
        self._queue.put({"row_id": row_id, "channel": channel, "ts": ts, "at": at})

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


class Outbox:
    """Delivers claimed rows with a Slack WebClient; one instance per process is fine."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        per_channel_interval: float = 1.0,
        workers: int = 4,
        on_permanent_failure: FailureHook | None = None,
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.per_channel_interval = per_channel_interval
        self.workers = workers
        self.on_permanent_failure = on_permanent_failure
        self.pacer = pacer if pacer is not None else PACER
        self._im_channels: dict[str, str] = {}
        self._im_lock = threading.Lock()
        # channel -> (oldest looked at, key -> ts); refreshed per delivery batch
        self._history: dict[str, tuple[dt.datetime, dict[str, str]]] = {}
        self._history_lock = threading.Lock()

    # ---------------------------------------------------------------- public

    def per_target_cap(self) -> int:
        """Rows one target may take per batch: its posts must fit well inside a lease."""
        if self.per_channel_interval <= 0:
            return BATCH
        fits = int(LEASE.total_seconds() / 2 / self.per_channel_interval)
        return max(1, min(BATCH, fits))

    def run(
        self,
        now: dt.datetime,
        *,
        partnership_ids: Sequence[int] | None = None,
        max_rounds: int = 50,
    ) -> OutboxStats:
        """Claim and deliver until nothing due is left (or ``max_rounds`` batches)."""
        stats = OutboxStats()
        for _ in range(max_rounds):
            batch = claim(
                self.sessions,
                now,
                per_target=self.per_target_cap(),
                partnership_ids=partnership_ids,
            )
            if not batch:
                break
            stats.add(self.deliver(batch, now))
        return stats

    def deliver(self, batch: Sequence[Claimed], now: dt.datetime) -> OutboxStats:
        """Post a claimed batch: one lane per target, lanes served by a pool of workers.

        A lane posts its rows in order, each no sooner than ``per_channel_interval``
        after Slack answered the lane's previous post; a worker only takes a lane whose
        turn has come, so no worker sleeps on a lane while another one is ready.
        """
        stats = OutboxStats()
        with self._history_lock:
            self._history = {}
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
                    outcome = self._deliver_one(row, now, local, recorder)
                except BaseException:  # keep the other channels going
                    log.exception("delivery %s crashed", row.key)
                    outcome = "stop"
                if outcome == "stop":
                    try:
                        # After a 429 the rest of the channel waits out Retry-After too.
                        wait = dt.timedelta(seconds=local.retry_after)
                        later = now + wait if local.retry_after else None
                        self._release(list(lane), now, local, not_before=later)
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

    # ---------------------------------------------------------------- one row

    def _deliver_one(
        self, row: Claimed, now: dt.datetime, stats: OutboxStats, recorder: _SentRecorder
    ) -> str:
        """Returns "posted", "skipped" (nothing sent, go on) or "stop" (leave the channel)."""
        channel = row.slack_channel
        if channel is None:
            try:
                channel = self._channel_for(row.target)
            except Exception as exc:
                return self._failed_call(row, exc, now, stats)
        if row.reconcile:
            try:
                ts = self._find_posted(channel, row)
            except Exception as exc:
                verdict = classify(exc)
                if verdict.outcome == "permanent":
                    return self._failed_call(row, exc, now, stats)
                # Cannot tell whether it was posted: keep it in flight, look again later.
                self._update(
                    row.id, claimed_until=now + backoff(2), last_error=verdict.reason[:500]
                )
                stats.retried += 1
                return "stop"
            if ts is not None:
                self._update(
                    row.id,
                    status=DeliveryStatus.SENT,
                    slack_channel=channel,
                    slack_ts=ts,
                    sent_at=now,
                    claimed_until=None,
                )
                stats.reconciled += 1
                stats.sent_keys.append(row.key)
                return "skipped"
        with session_scope(self.sessions) as session:
            delivery = session.get(Delivery, row.id)
            if delivery is None or delivery.status != DeliveryStatus.IN_FLIGHT:
                return "skipped"
            message, why = self._render(session, delivery, now)
            if message is None:
                delivery.status = DeliveryStatus.DROPPED
                delivery.last_error = why
                delivery.claimed_until = None
                stats.dropped += 1
                return "skipped"
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=_blocks_json(message.blocks),
                metadata=delivery_metadata(row.key),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            self.pacer.answered(row.target, time.monotonic())
            return self._failed_call(row, exc, now, stats)
        except Exception as exc:
            # No answer (timeout, connection lost): Slack may have posted it anyway.
            return self._unanswered(row, exc, now, stats)
        self.pacer.answered(row.target, time.monotonic())
        ts = response.get("ts")
        recorder.sent(row.id, str(response.get("channel") or channel), str(ts) if ts else None, now)
        stats.sent += 1
        stats.sent_keys.append(row.key)
        return "posted"

    def _render(
        self, session: Session, delivery: Delivery, now: dt.datetime
    ) -> tuple[OutboundMessage | None, str]:
        until = delivery.payload.get("useful_until")
        if isinstance(until, str) and now >= dt.datetime.fromisoformat(until):
            return None, "no longer useful: a later notice applies or its time has passed"
        renderer = renderer_for(delivery.kind)
        if renderer is None:
            return None, f"no renderer for kind {delivery.kind!r}"
        message = renderer(session, delivery, now)
        if message is None:
            return None, "no longer relevant (done, snoozed, moved or removed)"
        return message, ""

    def _failed_call(
        self, row: Claimed, exc: BaseException, now: dt.datetime, stats: OutboxStats
    ) -> str:
        verdict = classify(exc)
        if verdict.outcome == "rate_limited":
            retry_at = now + dt.timedelta(seconds=verdict.retry_after or 30.0)
            self._update(
                row.id,
                status=DeliveryStatus.PENDING,
                next_attempt_at=retry_at,
                claimed_until=None,
                attempts_delta=0 if row.reconcile else -1,
                last_error="ratelimited",
            )
            stats.rate_limited += 1
            stats.retry_after = max(stats.retry_after, verdict.retry_after or 30.0)
            return "stop"
        if verdict.outcome == "transient":
            attempts = self._attempts(row.id)
            if attempts >= MAX_ATTEMPTS:
                self._fail(row, f"gave up after {attempts} attempts: {verdict.reason}", now, stats)
                return "stop"
            self._update(
                row.id,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + backoff(attempts),
                claimed_until=None,
                last_error=verdict.reason[:500],
            )
            stats.retried += 1
            return "stop"
        self._fail(row, verdict.reason, now, stats, notify=True)
        return "skipped"

    def _unanswered(
        self, row: Claimed, exc: BaseException, now: dt.datetime, stats: OutboxStats
    ) -> str:
        """A post that got no answer stays in flight, to be looked for before a resend.

        It backs off like a transient failure, but the next claim takes it as a row left
        in flight and searches ``conversations.history`` for its key first, so a post
        that reached Slack while the answer was lost is recorded, not posted twice.
        """
        reason = classify(exc).reason
        attempts = self._attempts(row.id)
        if attempts >= MAX_ATTEMPTS:
            self._fail(row, f"gave up after {attempts} attempts: {reason}", now, stats)
            return "stop"
        self._update(
            row.id,
            claimed_until=now + backoff(attempts),
            attempts_delta=1 if row.reconcile else 0,
            last_error=reason[:500],
        )
        stats.retried += 1
        return "stop"

    def _fail(
        self,
        row: Claimed,
        reason: str,
        now: dt.datetime,
        stats: OutboxStats,
        *,
        notify: bool = False,
    ) -> None:
        with session_scope(self.sessions) as session:
            delivery = session.get(Delivery, row.id)
            if delivery is None:
                return
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = reason[:500]
            delivery.claimed_until = None
            if notify and self.on_permanent_failure is not None and row.kind != "delivery_failed":
                planned = self.on_permanent_failure(
                    session, row.partnership_id, reason, row.target, row.kind, now
                )
                insert_planned(session, row.partnership_id, planned, now)
        stats.failed += 1
        stats.failures.append((row.key, reason))
        log.warning("delivery %s failed for good: %s", row.key, reason)

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
                    .where(Delivery.id == row.id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )

    # ---------------------------------------------------------------- Slack helpers

    def _channel_for(self, target: str) -> str:
        if target[:1] not in ("U", "W"):
            return target
        with self._im_lock:
            known = self._im_channels.get(target)
        if known is not None:
            return known
        response = self.client.conversations_open(users=[target])
        channel = response.get("channel") or {}
        cid = str(channel.get("id")) if isinstance(channel, dict) and channel.get("id") else target
        with self._im_lock:
            self._im_channels[target] = cid
        return cid

    def _find_posted(self, channel: str, row: Claimed) -> str | None:
        """The ts of a message in ``channel`` tagged with this row's key, if any.

        Looks back a day before the row was created (or before now, if the clock was
        set ahead of the wall clock, as ``sweep --now`` does); one history scan per
        channel per delivery batch serves every row of that channel.
        """
        wall = dt.datetime.now(dt.UTC)
        oldest = min(row.created_at, wall) - RECONCILE_LOOKBACK
        cache = self._history.get(channel)
        if cache is None or cache[0] > oldest:
            cache = (oldest, self._tagged_messages(channel, oldest))
            self._history[channel] = cache
        return cache[1].get(row.key)

    def _tagged_messages(self, channel: str, oldest: dt.datetime) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            kwargs: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{max(oldest.timestamp(), 0):.6f}",
                "limit": 200,
                "include_all_metadata": True,
            }
            if cursor:
                kwargs["cursor"] = cursor
            response = self.client.conversations_history(**kwargs)
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                if meta.get("event_type") == METADATA_EVENT_TYPE:
                    key = (meta.get("event_payload") or {}).get("key")
                    if isinstance(key, str):
                        found.setdefault(key, str(message.get("ts")))
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor or not response.get("has_more", True):
                break
        return found

    # ---------------------------------------------------------------- db helpers

    def _attempts(self, row_id: int) -> int:
        with session_scope(self.sessions) as session:
            value = session.scalar(select(Delivery.attempts).where(Delivery.id == row_id))
            return int(value or 0)

    def _update(self, row_id: int, *, attempts_delta: int = 0, **values: Any) -> None:
        with session_scope(self.sessions) as session:
            if attempts_delta:
                values["attempts"] = Delivery.attempts + attempts_delta
            session.execute(
                update(Delivery)
                .where(Delivery.id == row_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
