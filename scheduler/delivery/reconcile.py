"""Reconciling rows left in flight: found by their key in ``conversations.history``, or sent again.

A row whose process died after claiming it, or whose post got no answer at all, may
already be in Slack. Before it is ever posted again, the channel's recent history is
searched for a message whose ``metadata`` carries the row's delivery key; one scan per
channel per delivery batch serves every row of that channel.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.deliveries import METADATA_EVENT_TYPE
from scheduler.delivery.records import Claimed, settle
from scheduler.delivery.stats import DeliveryStats
from scheduler.delivery.verdicts import backoff, classify
from store.models import DeliveryStatus

if TYPE_CHECKING:
    from slack_sdk import WebClient

HISTORY_PAGES = 10
RECONCILE_LOOKBACK = dt.timedelta(days=1)


class PostHistory:
    """The delivery keys of recent messages per channel, read from Slack's history."""

    def __init__(self, client: WebClient, *, wall: Clock | None = None) -> None:
        self.client = client
        # The real time, even when the delivery clock is set ahead (``sweep --now``).
        self.wall: Clock = wall if wall is not None else SystemClock()
        # channel -> (oldest looked at, key -> ts); refreshed per delivery batch
        self._history: dict[str, tuple[dt.datetime, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        with self._lock:
            self._history = {}

    def find_posted(self, channel: str, row: Claimed) -> str | None:
        """The ts of a message in ``channel`` tagged with this row's key, if any.

        Looks back a day before the row was created (or before now, if the clock was
        set ahead of the wall clock, as ``sweep --now`` does).
        """
        oldest = min(row.created_at, self.wall.now()) - RECONCILE_LOOKBACK
        with self._lock:
            cache = self._history.get(channel)
        if cache is None or cache[0] > oldest:
            cache = (oldest, self._tagged_messages(channel, oldest))
            with self._lock:
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


def reconcile(
    sessions: sessionmaker[Session],
    history: PostHistory,
    row: Claimed,
    channel: str,
    stats: DeliveryStats,
    *,
    now: Callable[[], dt.datetime],
    failed: Callable[[BaseException], str],
) -> str | None:
    """Settle a row left in flight from what Slack's history shows.

    Found posted: recorded as sent ("skipped": nothing more to post). History not
    readable: failed for good through ``failed`` if Slack refuses for good, else kept in
    flight to be looked for again later ("stop"). Not found: None, so it is posted.
    """
    try:
        ts = history.find_posted(channel, row)
    except Exception as exc:
        verdict = classify(exc)
        if verdict.outcome == "permanent":
            return failed(exc)
        # Cannot tell whether it was posted: keep it in flight, look again later.
        settle(sessions, row, claimed_until=now() + backoff(2), last_error=verdict.reason[:500])
        stats.retried += 1
        return "stop"
    if ts is None:
        return None
    settle(
        sessions,
        row,
        status=DeliveryStatus.SENT,
        slack_channel=channel,
        slack_ts=ts,
        sent_at=now(),
        claimed_until=None,
    )
    stats.reconciled += 1
    stats.sent_keys.append(row.key)
    return "skipped"
