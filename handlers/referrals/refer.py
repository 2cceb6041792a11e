"""`/csp refer` and the referral form: open it, store a submission once, alert, send a receipt."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import UserError
from bot.ids import Ids
from bot.plan.members import bootstrap_ids
from bot.referrals import crypto
from bot.referrals.alerts import channel_alert_refused, record_alert_posted
from bot.referrals.availability import UNAVAILABLE
from bot.referrals.form import FormInvalid, validate_referral_form
from bot.referrals.models import ReferralCreated
from bot.referrals.records import create_referral
from bot.referrals.vocabulary import AlertRoute
from bot.settings import ConfigError
from bot.slack.referral_alerts import build_confirmation_view
from bot.slack.referral_form import DANGER_LINE, build_referral_form_view, plain_error
from handlers.referrals.guards import trigger_client
from handlers.referrals.payloads import form_values, view_of
from handlers.referrals.sending import send_now, settle
from handlers.uow import Unit, unit_of, unit_of_work
from scheduler.delivery.immediate import Sent

log = logging.getLogger(__name__)


def open_referral_form(client: WebClient, trigger_id: str, unit: Unit | None = None) -> None:
    """Open the referral modal (``/csp refer``). Raises UserError if referrals are off.

    ``unit`` is not used (kept for the caller in ``handlers.commands``). views.open goes
    through :func:`trigger_client`, so a 429 fails at once instead of sleeping.
    """
    if not crypto.is_configured():
        raise UserError(
            f"{DANGER_LINE} {UNAVAILABLE} Until then referrals cannot be taken in Slack: "
            "contact your safeguarding lead directly, and ask an admin to set the key."
        )
    trigger_client(client).views_open(trigger_id=trigger_id, view=build_referral_form_view())


def submission_key(body: Mapping[str, Any]) -> str:
    """The idempotency key of a referral modal submission: who submitted which view state.

    Slack retries and double clicks repeat all three; two people never share one.
    """
    view = view_of(body)
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    return f"{user_id or ''}:{view.get('id', '')}:{view.get('hash', '')}"[:128]


def _send_alerts(client: WebClient, unit: Unit, created: ReferralCreated) -> None:
    """Alert the leads now: the channel, else each lead by DM, else the admins.

    Each row is sent by :func:`scheduler.delivery.engine.deliver_now` (claimed before the
    post, recorded after, so a crash in between is reconciled by the outbox, not
    posted twice). If the safeguarding channel refuses the alert for good, each lead
    gets it by DM instead. What is not through yet is left to the outbox.
    """
    route, alerts = created.route, created.alerts
    if route == AlertRoute.CHANNEL and alerts:
        (outcome,) = send_now(client, unit, [alerts[0].key])
        if outcome.status == Sent.SENT and outcome.channel and outcome.ts:
            record_alert_posted(
                unit.session,
                unit.partnership,
                created.reference,
                channel=outcome.channel,
                ts=outcome.ts,
                now=unit.now,
            )
            settle(unit)
            return
        if outcome.status != Sent.FAILED:
            log.warning("alert for %s left to the outbox: %s", created.reference, outcome.error)
            return
        admins, leads = bootstrap_ids(unit.partnership, unit.ctx.settings)
        route, alerts = channel_alert_refused(
            unit.session,
            unit.partnership,
            created.reference,
            reason=outcome.error or "failed",
            now=unit.now,
            leads=leads,
            admins=admins,
        )
    for outcome in send_now(client, unit, [a.key for a in alerts]):
        if outcome.status != Sent.SENT:
            log.warning("alert %s not sent now: %s", outcome.key, outcome.status.value)


def _on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    unit = unit_of(context)
    view = view_of(body)
    state = view.get("state")
    raw = form_values(state.get("values") if isinstance(state, Mapping) else None)
    try:
        form = validate_referral_form(raw, today=unit.today)
    except FormInvalid as exc:
        ack(
            response_action="errors",
            errors={str(k): plain_error(v) for k, v in exc.errors.items()},
        )
        return
    admins, leads = bootstrap_ids(unit.partnership, unit.ctx.settings)
    try:
        created = create_referral(
            unit.session,
            unit.partnership,
            unit.me,
            form,
            submission_key=submission_key(body),
            now=unit.now,
            leads=leads,
            admins=admins,
        )
        unit.session.commit()
    except ConfigError:
        unit.session.rollback()
        ack(
            response_action="errors",
            errors={
                str(Ids.REFERRAL_WHAT): "Referrals cannot be stored until an admin sets "
                "CSP_ENCRYPTION_KEY. Contact your safeguarding lead directly. " + DANGER_LINE
            },
        )
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={str(Ids.REFERRAL_WHAT): plain_error(str(exc))})
        return
    except Exception as exc:  # the database refused: keep the form open
        unit.session.rollback()
        log.error("a referral could not be stored: %s", type(exc).__name__)
        ack(
            response_action="errors",
            errors={
                str(Ids.REFERRAL_WHAT): "We could not save the referral just now. Press "
                "Send again in a moment; nothing typed is lost. " + DANGER_LINE
            },
        )
        return
    ack(
        response_action="update",
        view=build_confirmation_view(
            created.reference, created.prompts, created.route, admins_told=bool(created.alerts)
        ),
    )
    if not created.created:
        return  # a re-submission or a Slack retry: alert and receipt already went
    _send_alerts(client, unit, created)
    # The receipt says what became of the alert (it is rendered from the alert rows).
    send_now(client, unit, [created.receipt_key])


def register(app: App) -> None:
    app.view(str(Ids.REFERRAL_MODAL))(unit_of_work(_on_submit))
