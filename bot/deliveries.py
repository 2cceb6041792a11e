"""What a delivery source proposes; the outbox (scheduler) turns these into rows.

A *source* is a pure-ish function ``(session, partnership, now) -> Iterable[PlannedDelivery]``
that decides what is due. The sweep inserts one ``Delivery`` row per planned key (the
unique key makes a second insert a no-op) and then delivers pending rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from store.models import Partnership


@dataclass(frozen=True)
class PlannedDelivery:
    key: str  # unique per (target, kind, occurrence), e.g. "rem:obj12:d14:2026-04-16:U123"
    kind: str  # e.g. "deadline_before", "overdue", "meeting_before", "digest", "referral_escalation"
    target: str  # Slack user ID (DM) or channel ID
    occurrence: dt.datetime  # aware; when it is meant to be sent
    objective_id: int | None = None
    meeting_id: int | None = None
    referral_id: int | None = None
    # Non-sensitive rendering inputs only; never referral contents.
    payload: dict[str, Any] = field(default_factory=dict)
    # The last instant at which sending is still useful (None: always useful).
    useful_until: dt.datetime | None = None


DeliverySource = Callable[[Session, Partnership, dt.datetime], Iterable[PlannedDelivery]]
