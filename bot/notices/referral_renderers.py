"""Referral deliveries rendered for Slack: the alert, escalation, receipt and status notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, register_renderer
from bot.referrals import queries
from bot.referrals.access import safeguarding_lead_ids
from bot.referrals.alerts import alert_outcome
from bot.referrals.form import prompts_for
from bot.referrals.kinds import (
    ALERT_DM_KIND,
    ALERT_KIND,
    ASSIGNED_KIND,
    ESCALATION_KIND,
    NO_LEADS_KIND,
    RECEIPT_KIND,
    STATUS_KIND,
)
from bot.referrals.models import summarise
from bot.slack.referral_alerts import (
    AlertOutcome,
    alert_text,
    assigned_dm_text,
    build_alert_blocks,
    build_escalation_blocks,
    build_no_leads_blocks,
    build_receipt_blocks,
    escalation_text,
    no_leads_text,
    receipt_text,
    status_dm_text,
    waited_for,
)
from store.models import Delivery, Partnership, Referral


def render_alert(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage | None:
    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    if partnership is None:
        return None
    summary = summarise(ref, partnership)
    return OutboundMessage(text=alert_text(summary), blocks=build_alert_blocks(summary))


def render_escalation(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.acknowledged_at is not None or ref.closed_at is not None:
        return None  # acknowledged meanwhile: no longer worth sending
    waited = waited_for(ref.created_at, now)
    return OutboundMessage(
        text=escalation_text(ref.reference, ref.category, ref.urgency, waited),
        blocks=build_escalation_blocks(ref.reference, ref.category, ref.urgency, waited),
    )


def render_no_leads(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    if partnership is None:
        return None
    summary = summarise(ref, partnership)
    return OutboundMessage(text=no_leads_text(summary), blocks=build_no_leads_blocks(summary))


def _live_referral(session: Session, delivery: Delivery) -> tuple[Referral, Partnership] | None:
    ref = queries.referral_by_id(session, delivery.referral_id) if delivery.referral_id else None
    if ref is None or ref.purged_at is not None:
        return None
    partnership = queries.partnership_by_id(session, ref.partnership_id)
    return None if partnership is None else (ref, partnership)


def render_receipt(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    outcome, admins_told = alert_outcome(session, ref.id)
    told = AlertOutcome(outcome)
    prompts = prompts_for(partnership, ref.subject_group, ref.category)
    return OutboundMessage(
        text=receipt_text(ref.reference, told, admins_told=admins_told),
        blocks=build_receipt_blocks(ref.reference, prompts, told, admins_told=admins_told),
    )


def render_status(session: Session, delivery: Delivery, now: dt.datetime) -> OutboundMessage | None:
    found = _live_referral(session, delivery)
    if found is None:
        return None
    ref, partnership = found
    payload = delivery.payload or {}
    summary = summarise(ref, partnership)
    if payload.get("assignee"):
        summary = replace(summary, assigned_to=str(payload["assignee"]))
    text = status_dm_text(summary, str(payload.get("event", "")), str(payload.get("by", "")))
    return OutboundMessage(text=text)


def render_assigned(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
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
    return OutboundMessage(text=assigned_dm_text(summary, by))


# Importing this module registers the renderers; the outbox looks them up by kind.
register_renderer(ALERT_KIND, render_alert)
register_renderer(ALERT_DM_KIND, render_alert)
register_renderer(NO_LEADS_KIND, render_no_leads)
register_renderer(ESCALATION_KIND, render_escalation)
register_renderer(RECEIPT_KIND, render_receipt)
register_renderer(STATUS_KIND, render_status)
register_renderer(ASSIGNED_KIND, render_assigned)
