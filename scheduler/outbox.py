"""The outbox: planned deliveries become rows once, and rows become Slack posts once.

* :func:`insert_planned` inserts one row per planned key (``ON CONFLICT DO NOTHING``
  on the unique key), so any number of sweeps and processes insert it once.
* :func:`claim` takes due rows: pending rows whose ``next_attempt_at`` has come, and
  rows left ``in_flight`` by a process that died (their lease ``claimed_until`` ran
  out). On PostgreSQL it locks with ``FOR UPDATE SKIP LOCKED``; on SQLite it uses a
  compare-and-set update per row. Claimed rows are marked ``in_flight`` and committed
  *before* Slack is called.
* :class:`Outbox.deliver` posts each claimed row with its key in the message
  ``metadata``. A row found ``in_flight`` after a crash is first looked for in
  ``conversations.history``; only if Slack has no message carrying its key is it sent
  again. Different channels are served concurrently; one channel gets at most one
  message per ``per_channel_interval`` seconds.

Failures: 429 waits ``Retry-After`` (no attempt counted); 5xx and network errors back
off exponentially across sweeps; ``channel_not_found``, ``not_in_channel`` and other
permanent errors fail the row with its reason and tell the admins once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update
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
BATCH = 200
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


def claim(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    *,
    limit: int = BATCH,
    partnership_ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Take due rows for this process, mark them in flight and commit."""
    due = (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now)
    stale = (Delivery.status == DeliveryStatus.IN_FLIGHT) & (Delivery.claimed_until < now)
    claimed: list[Claimed] = []
    with session_scope(sessions) as session:
        on_pg = session.get_bind().dialect.name == "postgresql"
        query = select(Delivery).where(due | stale)
        if partnership_ids is not None:
            query = query.where(Delivery.partnership_id.in_(list(partnership_ids)))
        query = query.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
        if on_pg:
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        lease = now + LEASE
        for row in rows:
            was_in_flight = row.status == DeliveryStatus.IN_FLIGHT
            if on_pg:
                row.status = DeliveryStatus.IN_FLIGHT
                row.claimed_until = lease
                if not was_in_flight:
                    row.attempts += 1
                ok = True
            else:
                cond = (
                    (Delivery.status == DeliveryStatus.IN_FLIGHT)
                    & (Delivery.claimed_until == row.claimed_until)
                    if was_in_flight
                    else (Delivery.status == DeliveryStatus.PENDING)
                    & (Delivery.attempts == row.attempts)
                )
                result = session.execute(
                    update(Delivery)
                    .where(Delivery.id == row.id, cond)
                    .values(
                        status=DeliveryStatus.IN_FLIGHT,
                        claimed_until=lease,
                        attempts=Delivery.attempts + (0 if was_in_flight else 1),
                    )
                    .execution_options(synchronize_session=False)
                )
                ok = getattr(result, "rowcount", 0) == 1
            if ok:
                claimed.append(
                    Claimed(
                        id=row.id,
                        key=row.key,
                        kind=row.kind,
                        target=row.target,
                        partnership_id=row.partnership_id,
                        slack_channel=row.slack_channel,
                        reconcile=was_in_flight,
                        created_at=row.created_at,
                    )
                )
    return claimed


# --------------------------------------------------------------------------- deliver


def _blocks_json(blocks: Sequence[Block | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


FailureHook = Callable[[Session, int, str, str, str, dt.datetime], list[PlannedDelivery]]


class Outbox:
    """Delivers claimed rows with a Slack WebClient; one instance per process is fine."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        per_channel_interval: float = 1.0,
        workers: int = 8,
        on_permanent_failure: FailureHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.per_channel_interval = per_channel_interval
        self.workers = workers
        self.on_permanent_failure = on_permanent_failure
        self._im_channels: dict[str, str] = {}
        self._im_lock = threading.Lock()
        # channel -> (oldest looked at, key -> ts); refreshed per delivery batch
        self._history: dict[str, tuple[dt.datetime, dict[str, str]]] = {}

    # ---------------------------------------------------------------- public

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
            batch = claim(self.sessions, now, partnership_ids=partnership_ids)
            if not batch:
                break
            stats.add(self.deliver(batch, now))
        return stats

    def deliver(self, batch: Sequence[Claimed], now: dt.datetime) -> OutboxStats:
        stats = OutboxStats()
        self._history = {}
        lock = threading.Lock()
        queues: dict[str, deque[Claimed]] = defaultdict(deque)
        for row in batch:
            queues[row.target].append(row)
        heap: list[tuple[float, int, str]] = []
        start = time.monotonic()
        for seq, target in enumerate(queues):
            heap.append((start, seq, target))
        heapq.heapify(heap)
        counter = [len(heap)]
        errors: list[BaseException] = []

        def worker() -> None:
            while True:
                with lock:
                    if not heap:
                        return
                    ready_at, _, target = heapq.heappop(heap)
                wait = ready_at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                queue = queues[target]
                row = queue.popleft()
                local = OutboxStats()
                try:
                    outcome = self._deliver_one(row, now, local)
                except BaseException as exc:  # keep the other channels going
                    log.exception("delivery %s crashed", row.key)
                    errors.append(exc)
                    outcome = "stop"
                if outcome == "stop":
                    self._release(list(queue), now, local)
                    queue.clear()
                with lock:
                    stats.add(local)
                    if queue:
                        posted = outcome == "posted"
                        delay = self.per_channel_interval if posted else 0.0
                        counter[0] += 1
                        heapq.heappush(heap, (time.monotonic() + delay, counter[0], target))

        threads = [
            threading.Thread(target=worker, name=f"outbox-{i}", daemon=True)
            for i in range(max(1, min(self.workers, len(queues))))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return stats

    # ---------------------------------------------------------------- one row

    def _deliver_one(self, row: Claimed, now: dt.datetime, stats: OutboxStats) -> str:
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
            delivery.slack_channel = channel
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=_blocks_json(message.blocks),
                metadata=delivery_metadata(row.key),
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            return self._failed_call(row, exc, now, stats)
        ts = response.get("ts")
        self._update(
            row.id,
            status=DeliveryStatus.SENT,
            slack_channel=str(response.get("channel") or channel),
            slack_ts=str(ts) if ts else None,
            sent_at=now,
            claimed_until=None,
            last_error=None,
        )
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

    def _release(self, rows: Sequence[Claimed], now: dt.datetime, stats: OutboxStats) -> None:
        """Give back rows not tried this sweep, without counting an attempt."""
        for row in rows:
            if row.reconcile:
                self._update(row.id, claimed_until=now)  # look for it again next sweep
            else:
                self._update(
                    row.id,
                    status=DeliveryStatus.PENDING,
                    claimed_until=None,
                    attempts_delta=-1,
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
