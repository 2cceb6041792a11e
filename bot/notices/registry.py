"""The delivery registry: which sources propose deliveries and which renderer serves each kind.

Both are written out here, so what can be sent is visible in one place: :data:`SOURCES`
runs in this order on every sweep, and :data:`RENDERERS` has exactly one renderer per
:data:`bot.deliveries.DeliveryKind`. Each entry holds a loader, a plain function that
imports the source or renderer and returns it (mypy and go-to-definition follow it; no
name strings), called the first time the entry is used, so a sweep with nothing to plan
or send (a cron sweep, most minutes) imports none of them. :func:`check_registry` runs
where the scheduler, a sweep and the Slack app start, so a kind without a renderer stops
start-up instead of being dropped at send time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

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

# The loaders. Each imports inside itself on purpose: sources and renderers bring the
# plan's reading, the referral workflow and Block Kit, which an idle sweep never needs.


def _reminder_source() -> DeliverySource:
    from bot.notices.reminder_sources import reminder_source

    return reminder_source


def _digest_source() -> DeliverySource:
    from bot.notices.digest import digest_source

    return digest_source


def _escalation_source() -> DeliverySource:
    from bot.referrals.escalation import escalation_source

    return escalation_source


def _render_reminder() -> Renderer:
    from bot.notices.reminder_renderers import render_reminder

    return render_reminder


def _render_catch_up() -> Renderer:
    from bot.notices.catch_up import render_summary

    return render_summary


def _render_meeting() -> Renderer:
    from bot.notices.meeting_notices import render_meeting

    return render_meeting


def _render_set_date() -> Renderer:
    from bot.notices.meeting_notices import render_set_date

    return render_set_date


def _render_failure() -> Renderer:
    from bot.notices.failure_notices import render_failure

    return render_failure


def _render_digest() -> Renderer:
    from bot.notices.digest import render_digest

    return render_digest


def _render_progress_update() -> Renderer:
    from bot.notices.progress_updates import render_progress_update

    return render_progress_update


def _render_alert() -> Renderer:
    from bot.notices.referral_renderers import render_alert

    return render_alert


def _render_no_leads() -> Renderer:
    from bot.notices.referral_renderers import render_no_leads

    return render_no_leads


def _render_escalation() -> Renderer:
    from bot.notices.referral_renderers import render_escalation

    return render_escalation


def _render_receipt() -> Renderer:
    from bot.notices.referral_renderers import render_receipt

    return render_receipt


def _render_status() -> Renderer:
    from bot.notices.referral_renderers import render_status

    return render_status


def _render_assigned() -> Renderer:
    from bot.notices.referral_renderers import render_assigned

    return render_assigned


@dataclass(frozen=True)
class Source:
    """A delivery source as the sweep runs it."""

    load: Callable[[], DeliverySource]
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
        return self.load()

    @property
    def name(self) -> str:
        """ "module:function", as logs and sweep warnings name the source."""
        propose = self.propose
        return f"{propose.__module__}:{getattr(propose, '__name__', type(propose).__name__)}"


@dataclass(frozen=True)
class LazyRenderer:
    """A renderer whose module is imported when it first renders."""

    load: Callable[[], Renderer]

    def __call__(
        self, session: Session, delivery: Delivery, now: dt.datetime
    ) -> OutboundMessage | None:
        return self.load()(session, delivery, now)


SOURCES: tuple[Source, ...] = (
    Source(_reminder_source, calendar_driven=True),
    Source(_digest_source, calendar_driven=True),
    Source(_escalation_source, prefilter=partnerships_with_waiting_referrals),
)

_REMINDER = LazyRenderer(_render_reminder)
_ALERT = LazyRenderer(_render_alert)

RENDERERS: Mapping[DeliveryKind, Renderer] = MappingProxyType(
    {
        "deadline": _REMINDER,
        "overdue": _REMINDER,
        "quiet": _REMINDER,
        "overdue_summary": LazyRenderer(_render_catch_up),
        "meeting": LazyRenderer(_render_meeting),
        "meeting_set_date": LazyRenderer(_render_set_date),
        "delivery_failed": LazyRenderer(_render_failure),
        "digest": LazyRenderer(_render_digest),
        "progress_update": LazyRenderer(_render_progress_update),
        "referral_alert": _ALERT,
        "referral_alert_dm": _ALERT,
        "referral_no_leads": LazyRenderer(_render_no_leads),
        "referral_escalation": LazyRenderer(_render_escalation),
        "referral_receipt": LazyRenderer(_render_receipt),
        "referral_status": LazyRenderer(_render_status),
        "referral_assigned": LazyRenderer(_render_assigned),
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
