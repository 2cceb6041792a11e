"""What a delivery source proposes, and how a delivery kind is rendered.

A *source* is a function ``(session, partnership, now) -> Iterable[PlannedDelivery]``
that decides what is due. The sweep inserts one ``Delivery`` row per planned key (the
unique key makes a second insert a no-op) and then delivers pending rows, asking the
renderer registered for the row's ``kind`` for the message to post.

Sources are named in :data:`SOURCES` as ``"module:function"`` and imported lazily, so
a feature that is not installed (its module is absent) is simply skipped. A source
marked with :func:`calendar_driven` promises that what it proposes changes only when
the partnership's local clock passes one of its send times or when the plan data
changes; the sweep may skip calling it otherwise (see ``scheduler.sweep``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from store.models import Delivery, Partnership

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "csp_delivery"


@dataclass(frozen=True)
class PlannedDelivery:
    key: str  # unique per (target, kind, occurrence), e.g. "rem:obj12:d14:2026-04-16:U123"
    kind: (
        str  # e.g. "deadline_before", "overdue", "meeting_before", "digest", "referral_escalation"
    )
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

_RENDERERS: dict[str, Renderer] = {}

# Where deliveries come from. Absent modules are skipped (features are optional).
SOURCES: list[str] = [
    "bot.notices.reminders:reminder_source",
    "bot.notices.digest:digest_source",
    "bot.referrals.escalation:escalation_source",
]


def register_renderer(kind: str, fn: Renderer) -> None:
    """Say how deliveries of ``kind`` are turned into a Slack message (last one wins)."""
    _RENDERERS[kind] = fn


def renderer_for(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


def delivery_metadata(key: str) -> dict[str, Any]:
    """Slack message metadata tagging a post with its delivery key (for reconciliation)."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}


F = TypeVar("F", bound=Callable[..., Any])


def calendar_driven(fn: F) -> F:
    """Mark a source whose proposals change only at its send times or on data changes."""
    fn.csp_calendar_driven = True  # type: ignore[attr-defined]
    return fn


def is_calendar_driven(fn: object) -> bool:
    return bool(getattr(fn, "csp_calendar_driven", False))


def _import_optional(module_name: str) -> Any | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "this feature is not installed", never a broken import inside it.
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            return None
        raise


def load_sources(names: Iterable[str] | None = None) -> list[tuple[str, DeliverySource]]:
    """Import the named sources (default :data:`SOURCES`), skipping absent ones."""
    found: list[tuple[str, DeliverySource]] = []
    for name in SOURCES if names is None else names:
        module_name, _, attr = name.partition(":")
        module = _import_optional(module_name)
        if module is None:
            log.debug("delivery source %s skipped: module not present", name)
            continue
        fn = getattr(module, attr, None)
        if fn is None:
            log.debug("delivery source %s skipped: %s has no %s", name, module_name, attr)
            continue
        found.append((name, fn))
    return found
