"""Answering a referral request: commit first, then send what it queued and redraw the alert."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

# Imported for its registrations: the referral renderers deliver_now looks up by kind.
from bot.referrals.alerts import alert_location
from bot.referrals.models import StatusChange
from bot.referrals.workflow import summary_of
from bot.slack.referral_alerts import alert_text, build_alert_blocks
from handlers.uow import Unit
from scheduler.delivery.immediate import Outcome, deliver_now
from scheduler.delivery.verdicts import classify

log = logging.getLogger(__name__)

MAX_ALERT_UPDATE_WAIT = 60.0  # seconds: a longer Retry-After leaves the alert to the next change


def settle(unit: Unit) -> None:
    """Commit the request's changes before talking to Slack.

    On SQLite the first write of a transaction takes the database's single write
    lock and keeps it until commit. A Slack call can take seconds (a slow API, a
    429 waited out with Retry-After, a 30 s webhook timeout); holding the lock
    that long makes every other request's write (the audit append first) wait out
    its busy timeout and fail with "database is locked". So each listener saves
    what it decided, then calls Slack; the request's scope finishes the rest.
    """
    unit.session.commit()


def send_now(client: WebClient, unit: Unit, keys: Sequence[str | None]) -> list[Outcome]:
    """Commit the request's changes, then send the queued rows ``keys`` at once.

    Whatever does not go now is left to the outbox (see :func:`deliver_now`).
    """
    settle(unit)
    wanted = [k for k in keys if k]
    if not wanted:
        return []
    return deliver_now(unit.ctx.sessions, client, wanted, unit.ctx.clock)


def _refresh_alert(client: WebClient, unit: Unit, reference: str) -> None:
    """Show the new state on the channel alert (never the contents).

    A 429 is not waited out in the listener's thread (its client has no retry
    handlers): the same update is tried once more from a timer thread after
    ``Retry-After``. Updating a message twice to the same state changes nothing.
    """
    where = alert_location(unit.session, unit.partnership, reference)
    if where is None:
        return
    summary = summary_of(unit.session, unit.partnership, reference)
    update: dict[str, Any] = {
        "channel": where[0],
        "ts": where[1],
        "text": alert_text(summary),
        "blocks": build_alert_blocks(summary),
    }
    try:
        client.chat_update(**update)
    except SlackApiError as exc:
        verdict = classify(exc)
        if verdict.outcome != "rate_limited":
            log.warning("could not update the alert for %s: %s", reference, verdict.reason)
            return
        wait = min(verdict.retry_after or 1.0, MAX_ALERT_UPDATE_WAIT)
        timer = threading.Timer(wait, _update_later, args=(client, reference, update))
        timer.daemon = True
        timer.start()
    except (SlackClientError, OSError) as exc:
        log.warning("could not update the alert for %s: %s", reference, type(exc).__name__)


def _update_later(client: WebClient, reference: str, update: dict[str, Any]) -> None:
    try:
        client.chat_update(**update)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not update the alert for %s: %s", reference, type(exc).__name__)


def after_change(client: WebClient, unit: Unit, change: StatusChange) -> None:
    """After a workflow step: the channel alert shows the new state, its notices go now."""
    _refresh_alert(client, unit, change.summary.reference)
    send_now(client, unit, change.notices)
