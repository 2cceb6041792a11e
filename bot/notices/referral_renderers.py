"""Referral deliveries rendered for Slack: the alert, escalation, receipt and status notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage
from bot.referrals import queries
from bot.referrals.access import safeguarding_lead_ids
from bot.referrals.alerts import alert_outcome
from bot.referrals.form import prompts_for
from bot.referrals.models import summarise
from store.models import Delivery, Partnership, Referral


def render_alert(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    if partnership is None:
        return None
    summary = summarise(ref, partnership)
    return OutboundMessage(text=views.alert_text(summary), blocks=views.build_alert_blocks(summary))


def render_escalation(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.acknowledged_at is not None or ref.closed_at is not None:
        return None  # acknowledged meanwhile: no longer worth sending
    waited = views.waited_for(ref.created_at, now)
    return OutboundMessage(
        text=views.escalation_text(ref.reference, ref.category, ref.urgency, waited),
        blocks=views.build_escalation_blocks(ref.reference, ref.category, ref.urgency, waited),
    )


def render_no_leads(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    if partnership is None:
        return None
    summary = summarise(ref, partnership)
    return OutboundMessage(
        text=views.no_leads_text(summary), blocks=views.build_no_leads_blocks(summary)
    )


def _live_referral(session: Session, delivery: Delivery) -> tuple[Referral, Partnership] | None:
    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.purged_at is not None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    return None if partnership is None else (ref, partnership)


def render_receipt(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    outcome, admins_told = alert_outcome(session, ref.id)
    told = views.AlertOutcome(outcome)
    prompts = prompts_for(partnership, ref.subject_group, ref.category)
    return OutboundMessage(
        text=views.receipt_text(ref.reference, told, admins_told=admins_told),
        blocks=views.build_receipt_blocks(ref.reference, prompts, told, admins_told=admins_told),
    )


def render_status(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    payload = delivery.payload or {}
    summary = summarise(ref, partnership)
    if payload.get("assignee"):
        summary = replace(summary, assigned_to=str(payload["assignee"]))
    text = views.status_dm_text(summary, str(payload.get("event", "")), str(payload.get("by", "")))
    return OutboundMessage(text=text)


def render_assigned(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    # Block Kit is imported when there is a message to build, not by an idle sweep.
    from bot.slack import referral_alerts as views

    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    if ref.closed_at is not None:
        return None  # closed meanwhile: nothing left to do for the assignee
    payload = delivery.payload or {}
    assignee = str(payload.get("assignee") or delivery.target)
    if ref.assigned_to != assignee or delivery.target != assignee:
        return None  # reassigned meanwhile: the new assignee has a notice of their own
    if assignee not in safeguarding_lead_ids(session, partnership):
        return None  # no longer a lead: a referral's details are for leads only
    summary = summarise(ref, partnership)
    by = str(payload.get("by", ""))
    return OutboundMessage(text=views.assigned_dm_text(summary, by))
