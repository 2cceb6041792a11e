"""The delivery registry: which sources propose deliveries and which renderer serves each kind.

Both are written out here, each source and renderer named by where it lives
("module:function"), so what can be sent is visible in one place: :data:`SOURCES` runs
in this order on every sweep, and :data:`RENDERERS` has exactly one renderer per
:data:`bot.deliveries.DeliveryKind`. A source or renderer's module is imported the
first time it is called, so a sweep with nothing to plan or send (a cron sweep, most
minutes) loads none of them. :func:`check_registry` runs where the scheduler, a sweep
and the Slack app start, so a kind without a renderer stops start-up instead of being
dropped at send time.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from bot.deliveries import (
    DELIVERY_KINDS,
    DeliveryKind,
    DeliverySource,
    OutboundMessage,
    Renderer,
    is_delivery_kind,
)
from bot.notices.queries import partnerships_with_waiting_referrals
from store.models import Delivery


# Imported by name when first called: a sweep with nothing to plan or send needs none.
@functools.cache
def _load(path: str) -> Any:
    """The function a "module:function" path names, importing its module the first time."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Source:
    """A delivery source as the sweep runs it."""

    # "module:function", as logs and sweep warnings name the source.
    name: str
    # It promises that what it proposes changes only when a partnership's local clock
    # passes one of its send times or when the plan changes, so the sweep may skip it
    # otherwise (see scheduler.gate).
    calendar_driven: bool = False
    # The partnerships the source can propose anything for, in one query; a sweep asks
    # the source only about those (None: ask about every partnership).
    prefilter: Callable[[Session], set[int]] | None = None

    @property
    def propose(self) -> DeliverySource:
        """The source function (its module is imported the first time it is asked for)."""
        propose: DeliverySource = _load(self.name)
        return propose


@dataclass(frozen=True)
class NamedRenderer:
    """A renderer named "module:function"; its module is imported when it first renders."""

    name: str

    def __call__(
        self, session: Session, delivery: Delivery, now: dt.datetime
    ) -> OutboundMessage | None:
        render: Renderer = _load(self.name)
        return render(session, delivery, now)


SOURCES: tuple[Source, ...] = (
    Source("bot.notices.reminder_sources:reminder_source", calendar_driven=True),
    Source("bot.notices.digest:digest_source", calendar_driven=True),
    Source(
        "bot.referrals.escalation:escalation_source",
        prefilter=partnerships_with_waiting_referrals,
    ),
)

_REMINDER = NamedRenderer("bot.notices.reminder_renderers:render_reminder")
_ALERT = NamedRenderer("bot.notices.referral_renderers:render_alert")

RENDERERS: Mapping[DeliveryKind, Renderer] = MappingProxyType(
    {
        "deadline": _REMINDER,
        "overdue": _REMINDER,
        "quiet": _REMINDER,
        "meeting": NamedRenderer("bot.notices.meeting_notices:render_meeting"),
        "meeting_set_date": NamedRenderer("bot.notices.meeting_notices:render_set_date"),
        "delivery_failed": NamedRenderer("bot.notices.failure_notices:render_failure"),
        "digest": NamedRenderer("bot.notices.digest:render_digest"),
        "referral_alert": _ALERT,
        "referral_alert_dm": _ALERT,
        "referral_no_leads": NamedRenderer("bot.notices.referral_renderers:render_no_leads"),
        "referral_escalation": NamedRenderer("bot.notices.referral_renderers:render_escalation"),
        "referral_receipt": NamedRenderer("bot.notices.referral_renderers:render_receipt"),
        "referral_status": NamedRenderer("bot.notices.referral_renderers:render_status"),
        "referral_assigned": NamedRenderer("bot.notices.referral_renderers:render_assigned"),
    }
)


class RegistryError(RuntimeError):
    """The registry does not give every delivery kind a renderer."""


def check_registry(renderers: Mapping[DeliveryKind, Renderer] | None = None) -> None:
    """Stop start-up, naming them, if any delivery kinds have no renderer in
    ``renderers`` (default :data:`RENDERERS`)."""
    known = RENDERERS if renderers is None else renderers
    missing = [kind for kind in DELIVERY_KINDS if kind not in known]
    if missing:
        raise RegistryError(
            "No renderer for delivery kind(s) "
            + ", ".join(repr(k) for k in missing)
            + ": add one to RENDERERS in bot/notices/registry.py."
        )


def renderer_for(kind: str) -> Renderer | None:
    """The renderer for a stored row's kind; None for a kind this version does not know."""
    return RENDERERS.get(kind) if is_delivery_kind(kind) else None
