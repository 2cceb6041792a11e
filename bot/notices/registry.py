"""The delivery registry: which sources propose deliveries and which renderer serves each kind.

Both are written out here from plain imports, so what can be sent is visible in one
place: :data:`SOURCES` runs in this order on every sweep, and :data:`RENDERERS` has
exactly one renderer per :data:`bot.deliveries.DeliveryKind`. :func:`check_registry`
runs where the scheduler, a sweep and the Slack app start, so a kind without a renderer
stops start-up instead of being dropped at send time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy.orm import Session

from bot.deliveries import (
    DELIVERY_KINDS,
    DeliveryKind,
    DeliverySource,
    Renderer,
    is_delivery_kind,
)
from bot.notices.digest import digest_source, render_digest
from bot.notices.failure_notices import render_failure
from bot.notices.meeting_notices import render_meeting, render_set_date
from bot.notices.queries import partnerships_with_waiting_referrals
from bot.notices.referral_renderers import (
    render_alert,
    render_assigned,
    render_escalation,
    render_no_leads,
    render_receipt,
    render_status,
)
from bot.notices.reminder_renderers import render_reminder
from bot.notices.reminder_sources import reminder_source
from bot.referrals.escalation import escalation_source


@dataclass(frozen=True)
class Source:
    """A delivery source as the sweep runs it."""

    propose: DeliverySource
    # The partnerships the source can propose anything for, in one query; a sweep asks
    # the source only about those (None: ask about every partnership).
    prefilter: Callable[[Session], set[int]] | None = None

    @property
    def name(self) -> str:
        """ "module:function", as logs and sweep warnings name the source."""
        return f"{self.propose.__module__}:{self.propose.__name__}"


SOURCES: tuple[Source, ...] = (
    Source(reminder_source),
    Source(digest_source),
    Source(escalation_source, prefilter=partnerships_with_waiting_referrals),
)

RENDERERS: Mapping[DeliveryKind, Renderer] = MappingProxyType(
    {
        "deadline": render_reminder,
        "overdue": render_reminder,
        "quiet": render_reminder,
        "meeting": render_meeting,
        "meeting_set_date": render_set_date,
        "delivery_failed": render_failure,
        "digest": render_digest,
        "referral_alert": render_alert,
        "referral_alert_dm": render_alert,
        "referral_no_leads": render_no_leads,
        "referral_escalation": render_escalation,
        "referral_receipt": render_receipt,
        "referral_status": render_status,
        "referral_assigned": render_assigned,
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
