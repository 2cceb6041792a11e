"""Delivering one outbox row to Slack: the rules the outbox and the handlers share.

A delivery row is *claimed* (marked ``in_flight`` under a lease and committed) before
Slack is called, posted with its key in the message ``metadata``, and then settled:

* sent: recorded with the channel and ``ts`` Slack gave;
* 429: back to pending after ``Retry-After`` (no attempt counted);
* 5xx, network errors: back to pending with an exponential back-off;
* no answer at all (a timeout): left in flight, to be looked for in
  ``conversations.history`` by its key before it is ever posted again;
* ``channel_not_found``, ``user_not_found`` and other permanent errors: failed with
  the reason, and the admins are told once through the failure-notice path.

:class:`DeliveryEngine` does this for one row; ``scheduler.delivery.outbox.Outbox`` adds lanes,
pacing, batched "sent" commits and claiming of due rows on top of it, and
:func:`deliver_now` uses it to send rows a handler has just queued (a referral alert,
the referrer's receipt) at once, leaving anything that does not go to the outbox.
Times are read from an injected clock at each step, so a lease is always dated from
the moment it is taken.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.deliveries import (
    METADATA_EVENT_TYPE,
    OutboundMessage,
    PlannedDelivery,
    delivery_metadata,
)
from bot.notices.failure_notices import FAILURE_KIND, failure_notices
from bot.notices.registry import renderer_for
from store.db import session_scope
from store.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
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
    """Sort a Slack or network failure into what should be done about it."""
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
        return Verdict("permanent", error)
    return Verdict("transient", type(exc).__name__)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour (attempts counts failures so far)."""
    step: dt.timedelta = BACKOFF_BASE * (2 ** max(0, min(attempts - 1, 12)))
    return min(step, BACKOFF_MAX)


class ShiftedClock:
    """``clock`` moved so that it reads ``at`` now; it runs on as ``clock`` runs.

    ``csp-bot sweep --now`` and tests pass an instant; time taken by the sweep still
    counts, so leases taken later in it are dated later.
    """

    def __init__(self, clock: Clock, at: dt.datetime) -> None:
        self._clock = clock
        self._offset = at - clock.now()

    def now(self) -> dt.datetime:
        return (self._clock.now() + self._offset).astimezone(dt.UTC)


@dataclass
class DeliveryStats:
    inserted: int = 0
    sent: int = 0
    reconciled: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    lost: int = 0  # claims whose lease ran out and another process re-leased the row
    sent_keys: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    retry_after: float = 0.0  # longest Retry-After Slack asked for (seconds)
    notices: list[str] = field(default_factory=list)  # failure notices queued (keys)

    def add(self, other: DeliveryStats) -> None:
        self.inserted += other.inserted
        self.sent += other.sent
        self.reconciled += other.reconciled
        self.rate_limited += other.rate_limited
        self.retried += other.retried
        self.failed += other.failed
        self.dropped += other.dropped
        self.lost += other.lost
        self.sent_keys.extend(other.sent_keys)
        self.failures.extend(other.failures)
        self.retry_after = max(self.retry_after, other.retry_after)
        self.notices.extend(other.notices)


# --------------------------------------------------------------------------- rows


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


# --------------------------------------------------------------------------- failures

FailureHook = Callable[[Session, int, str, str, str, dt.datetime], list[PlannedDelivery]]


def notify_admins(
    session: Session,
    partnership_id: int,
    reason: str,
    target: str,
    kind: str,
    now: dt.datetime,
) -> list[PlannedDelivery]:
    """The admins' failure notices for a delivery that failed for good (keyed: once)."""
    return failure_notices(
        session,
        partnership_id,
        reason=reason,
        failed_target=target,
        failed_kind=kind,
        now=now,
    )


def blocks_json(blocks: Sequence[Block | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


# Records a posted row as sent: (claimed row, channel, ts, when).
RecordSent = Callable[[Claimed, str, str | None, dt.datetime], None]


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


# --------------------------------------------------------------------------- one row


class DeliveryEngine:
    """Posts claimed rows one at a time and settles each; shared by outbox and handlers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        clock: Clock | None = None,
        on_permanent_failure: FailureHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.on_permanent_failure = on_permanent_failure
        self._im_channels: dict[str, str] = {}
        self._im_lock = threading.Lock()
        # channel -> (oldest looked at, key -> ts); refreshed per delivery batch
        self._history: dict[str, tuple[dt.datetime, dict[str, str]]] = {}
        self._history_lock = threading.Lock()

    def now(self) -> dt.datetime:
        return self.clock.now().astimezone(dt.UTC)

    def answered(self, target: str) -> None:
        """Slack answered a post to ``target`` (the outbox paces its lanes from here)."""

    def deliver_one(self, row: Claimed, stats: DeliveryStats, record: RecordSent) -> str:
        """Post one claimed row and settle it.

        Returns "posted", "skipped" (nothing sent, go on) or "stop" (leave the target
        alone for now: it is rate limited, failing or its state is unknown).
        """
        channel = row.slack_channel
        if channel is None:
            try:
                channel = self.channel_for(row.target)
            except Exception as exc:
                return self._failed_call(row, exc, stats)
        if row.reconcile:
            try:
                ts = self._find_posted(channel, row)
            except Exception as exc:
                verdict = classify(exc)
                if verdict.outcome == "permanent":
                    return self._failed_call(row, exc, stats)
                # Cannot tell whether it was posted: keep it in flight, look again later.
                self._update(
                    row, claimed_until=self.now() + backoff(2), last_error=verdict.reason[:500]
                )
                stats.retried += 1
                return "stop"
            if ts is not None:
                self._update(
                    row,
                    status=DeliveryStatus.SENT,
                    slack_channel=channel,
                    slack_ts=ts,
                    sent_at=self.now(),
                    claimed_until=None,
                )
                stats.reconciled += 1
                stats.sent_keys.append(row.key)
                return "skipped"
        with session_scope(self.sessions) as session:
            # Post only while this claim still holds the row: if its lease ran out and
            # another process re-leased it, that process posts it (or already has).
            delivery = session.scalars(select(Delivery).where(*owned(row))).one_or_none()
            if delivery is None:
                stats.lost += 1
                return "skipped"
            message, why = self._render(session, delivery, self.now())
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
                blocks=blocks_json(message.blocks),
                metadata=delivery_metadata(row.key),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            self.answered(row.target)
            return self._failed_call(row, exc, stats)
        except Exception as exc:
            # No answer (timeout, connection lost): Slack may have posted it anyway.
            return self._unanswered(row, exc, stats)
        self.answered(row.target)
        ts = response.get("ts")
        record(row, str(response.get("channel") or channel), str(ts) if ts else None, self.now())
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
        if renderer is None:  # a row of a kind this version does not know
            return None, f"no renderer for kind {delivery.kind!r}"
        message = renderer(session, delivery, now)
        if message is None:
            return None, "no longer relevant (done, snoozed, moved or removed)"
        return message, ""

    def _failed_call(self, row: Claimed, exc: BaseException, stats: DeliveryStats) -> str:
        verdict = classify(exc)
        now = self.now()
        if verdict.outcome == "rate_limited":
            retry_at = now + dt.timedelta(seconds=verdict.retry_after or 30.0)
            self._update(
                row,
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
                self._fail(row, f"gave up after {attempts} attempts: {verdict.reason}", stats)
                return "stop"
            self._update(
                row,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + backoff(attempts),
                claimed_until=None,
                last_error=verdict.reason[:500],
            )
            stats.retried += 1
            return "stop"
        self._fail(row, verdict.reason, stats, notify=True)
        return "skipped"

    def _unanswered(self, row: Claimed, exc: BaseException, stats: DeliveryStats) -> str:
        """A post that got no answer stays in flight, to be looked for before a resend.

        It backs off like a transient failure, but the next claim takes it as a row left
        in flight and searches ``conversations.history`` for its key first, so a post
        that reached Slack while the answer was lost is recorded, not posted twice.
        """
        reason = classify(exc).reason
        attempts = self._attempts(row.id)
        if attempts >= MAX_ATTEMPTS:
            self._fail(row, f"gave up after {attempts} attempts: {reason}", stats)
            return "stop"
        self._update(
            row,
            claimed_until=self.now() + backoff(attempts),
            attempts_delta=1 if row.reconcile else 0,
            last_error=reason[:500],
        )
        stats.retried += 1
        return "stop"

    def _fail(
        self, row: Claimed, reason: str, stats: DeliveryStats, *, notify: bool = False
    ) -> None:
        now = self.now()
        with session_scope(self.sessions) as session:
            delivery = session.scalars(select(Delivery).where(*owned(row))).one_or_none()
            if delivery is None:  # another process holds or settled it: its outcome stands
                stats.lost += 1
                return
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = reason[:500]
            delivery.claimed_until = None
            if notify and self.on_permanent_failure is not None and row.kind != FAILURE_KIND:
                planned = self.on_permanent_failure(
                    session, row.partnership_id, reason, row.target, row.kind, now
                )
                stats.notices.extend(insert_planned(session, row.partnership_id, planned, now))
        stats.failed += 1
        stats.failures.append((row.key, reason))
        log.warning("delivery %s failed for good: %s", row.key, reason)

    # ---------------------------------------------------------------- Slack helpers

    def channel_for(self, target: str) -> str:
        """Where a post to ``target`` goes: a user's DM channel, else the channel itself."""
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

    def forget_history(self) -> None:
        with self._history_lock:
            self._history = {}

    def _find_posted(self, channel: str, row: Claimed) -> str | None:
        """The ts of a message in ``channel`` tagged with this row's key, if any.

        Looks back a day before the row was created (or before now, if the clock was
        set ahead of the wall clock, as ``sweep --now`` does); one history scan per
        channel per delivery batch serves every row of that channel.
        """
        wall = dt.datetime.now(dt.UTC)
        oldest = min(row.created_at, wall) - RECONCILE_LOOKBACK
        with self._history_lock:
            cache = self._history.get(channel)
        if cache is None or cache[0] > oldest:
            cache = (oldest, self._tagged_messages(channel, oldest))
            with self._history_lock:
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

    def _update(self, row: Claimed, *, attempts_delta: int = 0, **values: Any) -> None:
        """Settle ``row`` with ``values``, only while this claim still holds it."""
        with session_scope(self.sessions) as session:
            if attempts_delta:
                values["attempts"] = Delivery.attempts + attempts_delta
            session.execute(
                update(Delivery)
                .where(*owned(row))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


# --------------------------------------------------------------------------- now


class Sent(StrEnum):
    """What became of a row :func:`deliver_now` was asked to send."""

    SENT = "sent"  # posted (or found already posted)
    RETRYING = "retrying"  # not through yet; the outbox keeps trying
    FAILED = "failed"  # failed for good (the admins were told)
    DROPPED = "dropped"  # no longer worth sending
    ELSEWHERE = "elsewhere"  # claimed or settled by another process, or no such row


@dataclass(frozen=True)
class Outcome:
    key: str
    status: Sent
    error: str | None = None  # Slack's error code or the exception's name
    channel: str | None = None
    ts: str | None = None


def _outcome(key: str, stats: DeliveryStats, sessions: sessionmaker[Session]) -> Outcome:
    if stats.sent or stats.reconciled:
        with session_scope(sessions) as session:
            row = session.execute(
                select(Delivery.slack_channel, Delivery.slack_ts).where(Delivery.key == key)
            ).one_or_none()
        return Outcome(key, Sent.SENT, channel=row[0] if row else None, ts=row[1] if row else None)
    if stats.failed:
        return Outcome(key, Sent.FAILED, error=stats.failures[-1][1])
    if stats.dropped:
        return Outcome(key, Sent.DROPPED)
    if stats.retried or stats.rate_limited:
        return Outcome(key, Sent.RETRYING)
    return Outcome(key, Sent.ELSEWHERE)


def _claim_keys(
    sessions: sessionmaker[Session], keys: Sequence[str], now: dt.datetime
) -> dict[str, Claimed]:
    lease = now + LEASE
    """Mark the pending rows with these keys in flight and commit; returns those taken."""
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


def _send(engine: DeliveryEngine, keys: Sequence[str], outcomes: list[Outcome]) -> list[str]:
    claimed = _claim_keys(engine.sessions, keys, engine.now())
    notices: list[str] = []

    def record(row: Claimed, channel: str, ts: str | None, at: dt.datetime) -> None:
        record_sent(engine.sessions, row, channel, ts, at)

    for key in keys:
        row = claimed.get(key)
        if row is None:
            outcomes.append(Outcome(key, Sent.ELSEWHERE))
            continue
        stats = DeliveryStats()
        try:
            engine.deliver_one(row, stats, record)
        except Exception as exc:  # left in flight: the outbox looks for it after the lease
            log.exception("delivery %s could not be sent now; the outbox will", key)
            outcomes.append(Outcome(key, Sent.RETRYING, error=type(exc).__name__))
            continue
        notices.extend(stats.notices)
        outcome = _outcome(key, stats, engine.sessions)
        if outcome.status == Sent.RETRYING:
            with session_scope(engine.sessions) as session:
                error = session.scalar(select(Delivery.last_error).where(Delivery.key == key))
            outcome = Outcome(key, Sent.RETRYING, error=error)
        outcomes.append(outcome)
    return notices


def deliver_now(
    sessions: sessionmaker[Session],
    client: WebClient,
    keys: Sequence[str],
    clock: Clock,
    *,
    on_permanent_failure: FailureHook | None = notify_admins,
) -> list[Outcome]:
    """Send the queued rows ``keys`` at once, in order; one :class:`Outcome` per key.

    Each row is claimed (in flight under a lease, committed) before it is posted and
    recorded as sent straight after, so a crash in between is reconciled by the outbox,
    never posted twice. A row that fails for a passing reason is left to the outbox; one
    that fails for good is failed and the admins' failure notices are queued and sent
    here too. Rows already claimed or settled elsewhere are left alone.
    """
    engine = DeliveryEngine(
        sessions, client, clock=clock, on_permanent_failure=on_permanent_failure
    )
    outcomes: list[Outcome] = []
    notices = _send(engine, keys, outcomes)
    if notices:
        _send(engine, notices, [])
    return outcomes
