"""Referral read models: what the workflow returns and the views show, contents only in a detail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.referrals.vocabulary import AlertRoute
from store.models import Partnership, Referral


@dataclass(frozen=True)
class ReferralSummary:
    """What may be shown outside a lead's modal: no contents."""

    id: int
    reference: str
    group: str
    category: str
    urgency: str
    status: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    assigned_to: str | None
    referred_on_to: str | None
    closed_at: dt.datetime | None
    zone: str

    @property
    def local_created(self) -> dt.datetime:
        return self.created_at.astimezone(ZoneInfo(self.zone))


@dataclass(frozen=True)
class AlertDelivery:
    """One queued alert: its outbox key and whom (or which channel) it goes to."""

    key: str
    target: str


@dataclass(frozen=True)
class ReferralCreated:
    summary: ReferralSummary
    created: bool  # False when the submission had already been stored
    prompts: tuple[str, ...]
    referrer_slack_id: str
    route: AlertRoute = AlertRoute.CHANNEL
    # Everything queued for this referral: the channel alert, the leads' DMs, or the
    # admins' "nobody is a lead" notices (see ``route``).
    alerts: tuple[AlertDelivery, ...] = ()
    # The referrer's receipt (queued with the referral; None for a referral with no
    # referrer left to tell).
    receipt_key: str | None = None

    @property
    def reference(self) -> str:
        return self.summary.reference


@dataclass(frozen=True)
class NoteView:
    at: dt.datetime
    author_slack_id: str
    text: str


@dataclass(frozen=True)
class ReferralDetail:
    """Decrypted contents, for a safeguarding lead's modal or an export only."""

    summary: ReferralSummary
    referrer_slack_id: str
    subject: dict[str, Any]
    concern: dict[str, Any]
    referrer: dict[str, Any]
    consent: dict[str, Any]
    actions: dict[str, Any]
    outcome: dict[str, Any] | None
    notes: tuple[NoteView, ...]


@dataclass(frozen=True)
class StatusChange:
    """The result of a workflow step: what changed, and who should hear about it."""

    summary: ReferralSummary
    changed: bool
    referrer_slack_id: str
    event: str  # acknowledged | assigned | referred_on | noted | closed
    by: str
    # Keys of the notices queued with the change (the referrer's status DM, the
    # assignee's DM), to be sent at once; the outbox sends them if that fails.
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferralCounts:
    """Counts only, for the weekly digest."""

    opened: int  # created in the window
    acknowledged: int  # acknowledged in the window
    awaiting_past_deadline: int  # open, unacknowledged, first deadline passed
    open_total: int  # not closed, any age


@dataclass(frozen=True)
class PeriodReferralCounts:
    """Referrals opened in a period (a scrutiny pack's quarter), as counts only.

    ``by_category`` and ``by_urgency`` map the stored values to counts; the clock counts
    say whether each was acknowledged within its first working-day deadline.
    """

    total: int
    by_category: dict[str, int]
    by_urgency: dict[str, int]
    acknowledged_in_time: int
    acknowledged_late: int
    waiting_in_time: int  # not acknowledged yet, its deadline still ahead
    waiting_late: int  # not acknowledged, its deadline passed


@dataclass(frozen=True)
class WaitingReferral:
    """One referral awaiting acknowledgement, for a lead's App Home: no contents."""

    reference: str
    urgency: str
    created_at: dt.datetime
    overdue: bool  # its first acknowledgement deadline has passed


@dataclass(frozen=True)
class LeadHomeReferrals:
    """Counts and the oldest waiting referrals, for a safeguarding lead's App Home."""

    open_total: int
    awaiting: int  # open and not acknowledged
    overdue: int  # awaiting, first acknowledgement deadline passed
    oldest_waiting: tuple[WaitingReferral, ...]
    now: dt.datetime
    zone: str


def summarise(ref: Referral, partnership: Partnership) -> ReferralSummary:
    """The contents-free summary of ``ref``, with the partnership's time zone for its dates."""
    return ReferralSummary(
        id=ref.id,
        reference=ref.reference,
        group=ref.subject_group,
        category=ref.category,
        urgency=ref.urgency,
        status=ref.status,
        created_at=ref.created_at,
        acknowledged_at=ref.acknowledged_at,
        acknowledged_by=ref.acknowledged_by,
        assigned_to=ref.assigned_to,
        referred_on_to=ref.referred_on_to,
        closed_at=ref.closed_at,
        zone=partnership.timezone,
    )
