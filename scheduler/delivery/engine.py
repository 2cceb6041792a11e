"""Delivering one claimed outbox row to Slack and settling it: rules the outbox and handlers share.

A delivery row is claimed (see :mod:`scheduler.delivery.records`) before Slack is
called, posted with its key in the message ``metadata``, and then settled:

* sent: recorded with the channel and ``ts`` Slack gave;
* 429: back to pending after ``Retry-After`` (no attempt counted);
* 5xx, network errors: back to pending with an exponential back-off;
* no answer at all (a timeout): left in flight, to be looked for in
  ``conversations.history`` by its key before it is ever posted again;
* ``channel_not_found``, ``user_not_found`` and other permanent errors: failed with
  the reason, and the admins are told once through the failure-notice path.

:class:`DeliveryEngine` does this for one row; ``scheduler.delivery.outbox.Outbox`` adds
lanes, pacing, batched "sent" commits and claim rounds on top of it, and
``scheduler.delivery.immediate.deliver_now`` uses it to send rows a handler has just
queued. Times are read from an injected clock at each step, so a lease is always dated
from the moment it is taken.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.deliveries import OutboundMessage, PlannedDelivery, delivery_metadata
from bot.notices.failure_notices import FAILURE_KIND, failure_notices
from bot.notices.registry import renderer_for
from scheduler.delivery.client import without_resends
from scheduler.delivery.planned_rows import insert_planned
from scheduler.delivery.reconcile import PostHistory, reconcile
from scheduler.delivery.records import Claimed, attempts_of, owned_delivery, settle
from scheduler.delivery.stats import DeliveryStats
from scheduler.delivery.verdicts import backoff, classify, max_attempts
from store.db import session_scope
from store.models import Delivery, DeliveryStatus

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

FailureHook = Callable[[Session, int, str, str, str, dt.datetime], list[PlannedDelivery]]

# Records a posted row as sent: (claimed row, channel, ts, when).
RecordSent = Callable[[Claimed, str, str | None, dt.datetime], None]


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
        # Never a transport-level resend: an unanswered post is reconciled by its key.
        self.client = without_resends(client)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.on_permanent_failure = on_permanent_failure
        self.history = PostHistory(self.client)
        self._im_channels: dict[str, str] = {}
        self._im_lock = threading.Lock()

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
            settled = reconcile(
                self.sessions,
                self.history,
                row,
                channel,
                stats,
                now=self.now,
                failed=lambda exc: self._failed_call(row, exc, stats),
            )
            if settled is not None:
                return settled
        with session_scope(self.sessions) as session:
            # Post only while this claim still holds the row: if its lease ran out and
            # another process re-leased it, that process posts it (or already has).
            delivery = owned_delivery(session, row)
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
            settle(
                self.sessions,
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
            attempts = attempts_of(self.sessions, row.id)
            if attempts >= max_attempts(row.kind):
                self._fail(row, f"gave up after {attempts} attempts: {verdict.reason}", stats)
                return "stop"
            settle(
                self.sessions,
                row,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + backoff(attempts, row.kind),
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
        attempts = attempts_of(self.sessions, row.id)
        if attempts >= max_attempts(row.kind):
            self._fail(row, f"gave up after {attempts} attempts: {reason}", stats)
            return "stop"
        settle(
            self.sessions,
            row,
            claimed_until=self.now() + backoff(attempts, row.kind),
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
            delivery = owned_delivery(session, row)
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
