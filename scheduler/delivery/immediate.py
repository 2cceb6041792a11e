"""Immediate sends: ``deliver_now`` posts rows a handler has just queued, by the outbox's own rules.

Referral alerts, the referrer's receipt, status and assignment messages are delivery
rows written in the same transaction as the change; :func:`deliver_now` claims, posts
and records them at once, and leaves whatever does not go now to the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from scheduler.delivery.engine import DeliveryEngine, FailureHook, notify_admins
from scheduler.delivery.records import (
    Claimed,
    claim_keys,
    last_error_of,
    record_sent,
    where_sent,
)
from scheduler.delivery.stats import DeliveryStats

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)


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
        channel, ts = where_sent(sessions, key)
        return Outcome(key, Sent.SENT, channel=channel, ts=ts)
    if stats.failed:
        return Outcome(key, Sent.FAILED, error=stats.failures[-1][1])
    if stats.dropped:
        return Outcome(key, Sent.DROPPED)
    if stats.retried or stats.rate_limited:
        return Outcome(key, Sent.RETRYING)
    return Outcome(key, Sent.ELSEWHERE)


def _send(engine: DeliveryEngine, keys: Sequence[str], outcomes: list[Outcome]) -> list[str]:
    claimed = claim_keys(engine.sessions, keys, engine.now())
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
            outcome = Outcome(key, Sent.RETRYING, error=last_error_of(engine.sessions, key))
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
