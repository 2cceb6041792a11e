"""Delivery types: what a source proposes, the kinds of delivery, and what a renderer returns.

A *source* is a function ``(session, partnership, now) -> Iterable[PlannedDelivery]``
that decides what is due. The sweep inserts one ``Delivery`` row per planned key (the
unique key makes a second insert a no-op) and then delivers pending rows, asking the
renderer for the row's ``kind`` for the message to post. Which sources run and which
renderer serves each kind is written out in :mod:`bot.notices.registry`.

A source the registry marks ``calendar_driven`` promises that what it proposes changes
only when the partnership's local clock passes one of its send times or when the plan
data changes; the sweep may skip calling it otherwise (see ``scheduler.sweep``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, get_args

from sqlalchemy.orm import Session

from store.models import Delivery, Partnership

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

METADATA_EVENT_TYPE = "csp_delivery"

# Every kind of delivery; each has exactly one renderer (bot.notices.registry checks).
DeliveryKind = Literal[
    # reminders (bot.notices.reminder_sources, bot.notices.meeting_notices)
    "deadline",
    "overdue",
    # what was already overdue at a plan load or a new channel, in one message
    "overdue_summary",
    "quiet",
    "meeting",
    "meeting_set_date",
    # the admins' note about a delivery that failed for good
    "delivery_failed",
    # the weekly digest
    "digest",
    # progress updates announced in the partnership channel, a burst coalesced in one post
    "progress_update",
    # safeguarding referrals
    "referral_alert",
    "referral_alert_dm",
    "referral_no_leads",
    "referral_escalation",
    "referral_receipt",
    "referral_status",
    "referral_assigned",
]

DELIVERY_KINDS: tuple[DeliveryKind, ...] = get_args(DeliveryKind)


def is_delivery_kind(value: str) -> TypeGuard[DeliveryKind]:
    """Whether ``value`` (a stored row's kind, say) names a kind this version knows."""
    return value in DELIVERY_KINDS


@dataclass(frozen=True)
class PlannedDelivery:
    key: str  # unique per (target, kind, occurrence), e.g. "rem:obj12:d14:2026-04-16:U123"
    kind: DeliveryKind
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


@dataclass(frozen=True)
class OutboundMessage:
    """The message a renderer wants posted. The outbox adds the delivery metadata."""

    text: str
    blocks: Sequence[Block | dict[str, Any]] | None = None


# A renderer returns None when the delivery is no longer worth sending (the objective
# was marked done meanwhile, the meeting got a date...); the outbox then drops the row.
Renderer = Callable[[Session, Delivery, dt.datetime], OutboundMessage | None]


def delivery_metadata(key: str) -> dict[str, Any]:
    """Slack message metadata tagging a post with its delivery key (for reconciliation)."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}
