"""Slack listeners for safeguarding referrals: the form, the alert buttons, the lead's modals.

Thin: parse, call :mod:`bot.referrals.core`, render with :mod:`bot.slack.referrals`, reply.
Refusals (:class:`bot.referrals.core.NotALead`) are caught inside the request's unit of
work so their audit records are committed. Referral contents travel only in the
lead's detail modal, which is opened through a client whose logger never prints
(slack_sdk logs request and response bodies at DEBUG); :func:`install_log_guard`
withholds DEBUG records of the Slack and HTTP libraries for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient

from bot.context import AppContext
from bot.errors import UserError
from bot.ids import Ids
from bot.plan.members import resolve_actor
from bot.referrals import core as referrals
from bot.referrals import crypto
from bot.settings import ConfigError
from bot.slack import referrals as rv
from handlers.app import Unit, unit_of
from scheduler.delivery.engine import Outcome, Sent, deliver_now

log = logging.getLogger(__name__)

GUARDED_LOGGERS: Final = (
    "slack_sdk",
    "slack_bolt",
    "slack",
    "csp.bolt",
    "urllib3",
    "websocket",
    "aiohttp",
    "http.client",
)
_WITHHELD: Final = "debug output withheld (it may carry safeguarding referral data)"
_guard_installed = False


def install_log_guard() -> None:
    """Withhold DEBUG records of Slack/HTTP libraries, whatever levels are set later.

    Works through the log record factory, so it covers loggers created after
    this call and handlers added by anyone. Idempotent.
    """
    global _guard_installed  # installed once per process
    if _guard_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.levelno < logging.INFO and record.name.startswith(GUARDED_LOGGERS):
            record.msg = _WITHHELD
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return record

    logging.setLogRecordFactory(factory)
    _guard_installed = True


def _silent_logger() -> logging.Logger:
    """A logger outside the logging tree that drops everything."""
    quiet = logging.Logger("csp.referral.views", level=logging.CRITICAL + 1)
    quiet.propagate = False
    quiet.disabled = True
    quiet.addHandler(logging.NullHandler())
    return quiet


_SILENT: Final = _silent_logger()


def sensitive_client(client: WebClient) -> WebClient:
    """A copy of ``client`` for calls that carry referral contents: it never logs."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=_SILENT,
        retry_handlers=list(client.retry_handlers),
    )


# --------------------------------------------------------------------------- parsing


def form_values(state_values: object) -> dict[str, str | None]:
    """view.state.values -> {block id: typed or chosen value}; tolerant of odd payloads."""
    out: dict[str, str | None] = {}
    if not isinstance(state_values, Mapping):
        return out
    for block_id, actions in state_values.items():
        if not isinstance(actions, Mapping):
            continue
        for action in actions.values():
            if not isinstance(action, Mapping):
                continue
            value: object = action.get("value")
            option = action.get("selected_option")
            if isinstance(option, Mapping):
                value = option.get("value")
            for key in ("selected_date", "selected_user"):
                if action.get(key) is not None:
                    value = action.get(key)
            out[str(block_id)] = value if isinstance(value, str) else None
            break
    return out


def _view(body: Mapping[str, Any]) -> Mapping[str, Any]:
    view = body.get("view")
    return view if isinstance(view, Mapping) else {}


def _in_modal(body: Mapping[str, Any]) -> bool:
    """Whether the click came from a modal (a lead's view), not a message or App Home."""
    return _view(body).get("type") == "modal"


def _action_value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return str(actions[0].get("value") or "")
    return ""


# --------------------------------------------------------------------------- replies


def _settle(unit: Unit) -> None:
    """Commit the request's changes before talking to Slack.

    On SQLite the first write of a transaction takes the database's single write
    lock and keeps it until commit. A Slack call can take seconds (a slow API, a
    429 waited out with Retry-After, a 30 s webhook timeout); holding the lock
    that long makes every other request's write (the audit append first) wait out
    its busy timeout and fail with "database is locked". So each listener saves
    what it decided, then calls Slack; the request's scope finishes the rest.
    """
    unit.session.commit()


def _tell(client: WebClient, body: Mapping[str, Any], user_id: str, text: str) -> None:
    """An ephemeral reply to whoever clicked (DM if there is no channel)."""
    try:
        url = body.get("response_url")
        if url:
            WebhookClient(str(url)).send(
                text=text, response_type="ephemeral", replace_original=False
            )
            return
        channel = body.get("channel")
        channel_id = channel.get("id") if isinstance(channel, Mapping) else None
        if channel_id and not str(channel_id).startswith("D"):
            client.chat_postEphemeral(channel=str(channel_id), user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not reply to %s: %s", user_id, type(exc).__name__)


def trigger_client(client: WebClient) -> WebClient:
    """A copy of ``client`` for calls bound to a trigger_id (views.open).

    A trigger_id lives 3 seconds, so waiting out a 429's Retry-After and trying again
    can only fail, and it delays the ack; the rate-limit retry handler is left out.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=client.logger,
        retry_handlers=[
            h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def _send_now(client: WebClient, unit: Unit, keys: Sequence[str | None]) -> list[Outcome]:
    """Commit the request's changes, then send the queued rows ``keys`` at once.

    Whatever does not go now is left to the outbox (see :func:`deliver_now`).
    """
    _settle(unit)
    wanted = [k for k in keys if k]
    if not wanted:
        return []
    return deliver_now(unit.ctx.sessions, client, wanted, unit.ctx.clock)


def _refresh_alert(client: WebClient, unit: Unit, reference: str) -> None:
    """Show the new state on the channel alert (never the contents)."""
    where = referrals.alert_location(unit.session, unit.partnership, reference)
    if where is None:
        return
    summary = referrals.summary_of(unit.session, unit.partnership, reference)
    try:
        client.chat_update(
            channel=where[0],
            ts=where[1],
            text=rv.alert_text(summary),
            blocks=rv.build_alert_blocks(summary),
        )
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not update the alert for %s: %s", reference, type(exc).__name__)


def _after_change(client: WebClient, unit: Unit, change: referrals.StatusChange) -> None:
    _refresh_alert(client, unit, change.summary.reference)
    _send_now(client, unit, change.notices)


# --------------------------------------------------------------------------- entry points


def open_referral_form(client: WebClient, trigger_id: str, unit: Unit | None = None) -> None:
    """Open the referral modal (``/csp refer``). Raises UserError if referrals are off.

    ``unit`` is not used (kept for the caller in ``handlers.commands``). views.open goes
    through :func:`trigger_client`, so a 429 fails at once instead of sleeping.
    """
    if not crypto.is_configured():
        raise UserError(
            f"{rv.DANGER_LINE} Referrals cannot be taken in Slack yet because no "
            "encryption key is set (CSP_ENCRYPTION_KEY); contact your safeguarding lead "
            "directly and ask an admin to set the key."
        )
    trigger_client(client).views_open(trigger_id=trigger_id, view=rv.build_referral_form_view())


def list_referrals(unit: Unit) -> tuple[str, list[Block]]:
    """(text, blocks) for ``/csp referrals``: the open list for leads, a refusal otherwise."""
    try:
        summaries = referrals.list_open(unit.session, unit.partnership, unit.me, now=unit.now)
    except referrals.NotALead as exc:
        _settle(unit)  # the refusal's audit record
        return str(exc), []
    return f"{len(summaries)} open safeguarding referrals.", rv.build_referral_list_blocks(
        summaries
    )


# --------------------------------------------------------------------------- listeners


def submission_key(body: Mapping[str, Any]) -> str:
    """The idempotency key of a referral modal submission: who submitted which view state.

    Slack retries and double clicks repeat all three; two people never share one.
    """
    view = _view(body)
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    return f"{user_id or ''}:{view.get('id', '')}:{view.get('hash', '')}"[:128]


def _send_alerts(client: WebClient, unit: Unit, created: referrals.ReferralCreated) -> None:
    """Alert the leads now: the channel, else each lead by DM, else the admins.

    Each row is sent by :func:`scheduler.delivery.engine.deliver_now` (claimed before the
    post, recorded after, so a crash in between is reconciled by the outbox, not
    posted twice). If the safeguarding channel refuses the alert for good, each lead
    gets it by DM instead. What is not through yet is left to the outbox.
    """
    route, alerts = created.route, created.alerts
    if route == referrals.AlertRoute.CHANNEL and alerts:
        (outcome,) = _send_now(client, unit, [alerts[0].key])
        if outcome.status == Sent.SENT and outcome.channel and outcome.ts:
            referrals.record_alert_posted(
                unit.session,
                unit.partnership,
                created.reference,
                channel=outcome.channel,
                ts=outcome.ts,
                now=unit.now,
            )
            _settle(unit)
            return
        if outcome.status != Sent.FAILED:
            log.warning("alert for %s left to the outbox: %s", created.reference, outcome.error)
            return
        settings = unit.ctx.settings
        route, alerts = referrals.channel_alert_refused(
            unit.session,
            unit.partnership,
            created.reference,
            reason=outcome.error or "failed",
            now=unit.now,
            leads=settings.safeguarding_leads,
            admins=settings.admins,
        )
    for outcome in _send_now(client, unit, [a.key for a in alerts]):
        if outcome.status != Sent.SENT:
            log.warning("alert %s not sent now: %s", outcome.key, outcome.status.value)


def _on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    unit = unit_of(context)
    view = _view(body)
    state = view.get("state")
    raw = form_values(state.get("values") if isinstance(state, Mapping) else None)
    try:
        form = referrals.validate_referral_form(raw, today=unit.today)
    except referrals.FormInvalid as exc:
        ack(
            response_action="errors",
            errors={str(k): rv.plain_error(v) for k, v in exc.errors.items()},
        )
        return
    settings = unit.ctx.settings
    try:
        created = referrals.create_referral(
            unit.session,
            unit.partnership,
            unit.me,
            form,
            submission_key=submission_key(body),
            now=unit.now,
            leads=settings.safeguarding_leads,
            admins=settings.admins,
        )
        unit.session.commit()
    except ConfigError:
        unit.session.rollback()
        ack(
            response_action="errors",
            errors={
                str(Ids.REFERRAL_WHAT): "Referrals cannot be stored until an admin sets "
                "CSP_ENCRYPTION_KEY. Contact your safeguarding lead directly. " + rv.DANGER_LINE
            },
        )
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={str(Ids.REFERRAL_WHAT): rv.plain_error(str(exc))})
        return
    except Exception as exc:  # the database refused: keep the form open
        unit.session.rollback()
        log.error("a referral could not be stored: %s", type(exc).__name__)
        ack(
            response_action="errors",
            errors={
                str(Ids.REFERRAL_WHAT): "We could not save the referral just now. Press "
                "Send again in a moment; nothing typed is lost. " + rv.DANGER_LINE
            },
        )
        return
    ack(
        response_action="update",
        view=rv.build_confirmation_view(
            created.reference, created.prompts, created.route, admins_told=bool(created.alerts)
        ),
    )
    if not created.created:
        return  # a re-submission or a Slack retry: alert and receipt already went
    _send_alerts(client, unit, created)
    # The receipt says what became of the alert (it is rendered from the alert rows).
    _send_now(client, unit, [created.receipt_key])


def _on_ack(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    unit = unit_of(context)
    reference = _action_value(body)
    try:
        change = referrals.acknowledge(
            unit.session, unit.partnership, unit.me, reference, now=unit.now
        )
    except UserError as exc:
        _settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    _settle(unit)
    _after_change(client, unit, change)
    notice = rv.confirmation_text(change)
    if _in_modal(body) and _refresh_detail(client, unit, body, reference, notice):
        return
    _tell(client, body, unit.me.slack_user_id, notice)


def _refresh_detail(
    client: WebClient, unit: Unit, body: Mapping[str, Any], reference: str, notice: str
) -> bool:
    """Redraw the lead's open view with ``notice`` on top; False if that was not possible.

    Reading the details again is audited as a view, like any other read.
    """
    view = _view(body)
    try:
        detail = referrals.view(unit.session, unit.partnership, unit.me, reference, now=unit.now)
        _settle(unit)
        sensitive_client(client).views_update(
            view_id=str(view.get("id", "")),
            view=rv.build_detail_view(detail, notice=notice),
        )
    except UserError:
        _settle(unit)
        return False
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not redraw the view of %s: %s", reference, type(exc).__name__)
        return False
    return True


def _open_over(client: WebClient, body: Mapping[str, Any], view: Any) -> None:
    """Open ``view`` from a click: pushed over a modal, else opened (trigger-bound)."""
    trigger = str(body.get("trigger_id", ""))
    if _in_modal(body):
        trigger_client(client).views_push(trigger_id=trigger, view=view)
    else:
        trigger_client(client).views_open(trigger_id=trigger, view=view)


def _on_view(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    unit = unit_of(context)
    reference = _action_value(body)
    try:
        detail = referrals.view(unit.session, unit.partnership, unit.me, reference, now=unit.now)
    except UserError as exc:
        _settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    _settle(unit)
    try:
        _open_over(sensitive_client(client), body, rv.build_detail_view(detail))
    except (SlackApiError, SlackClientError, OSError) as exc:
        code = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("could not open the referral view for %s: %s", reference, code)
        _tell(
            client,
            body,
            unit.me.slack_user_id,
            f"Slack would not open {reference} just now; press View again.",
        )


def _on_assign(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    unit = unit_of(context)
    reference = _action_value(body)
    try:
        referrals.require_lead(
            unit.session, unit.partnership, unit.me, "assign", reference, now=unit.now
        )
        referrals.summary_of(unit.session, unit.partnership, reference)
    except UserError as exc:
        _settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    _settle(unit)
    try:
        _open_over(client, body, rv.build_assign_view(reference))
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not open the assign form for %s: %s", reference, type(exc).__name__)
        _tell(
            client,
            body,
            unit.me.slack_user_id,
            f"Slack would not open the assign form for {reference} just now; press Assign again.",
        )


_STEPS: Final = {
    str(Ids.REFERRAL_REFER_ON_OPEN): "refer_on",
    str(Ids.REFERRAL_NOTE_OPEN): "note",
    str(Ids.REFERRAL_CLOSE_OPEN): "close",
}


def _on_step(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Refer on / Add note / Close referral in a lead's view: push the small form."""
    ack()
    unit = unit_of(context)
    reference = _action_value(body)
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else {}
    step = _STEPS.get(str(first.get("action_id", "")) if isinstance(first, Mapping) else "", "")
    if not step:
        return
    try:
        referrals.require_lead(
            unit.session, unit.partnership, unit.me, step, reference, now=unit.now
        )
        referrals.summary_of(unit.session, unit.partnership, reference)
    except UserError as exc:
        _settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    _settle(unit)
    try:
        _open_over(client, body, rv.build_step_view(reference, step))
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not open the %s form for %s: %s", step, reference, type(exc).__name__)
        _tell(
            client,
            body,
            unit.me.slack_user_id,
            f"Slack would not open that form for {reference} just now; press the button again.",
        )


def _on_assign_submit(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    unit = unit_of(context)
    view = _view(body)
    reference = str(view.get("private_metadata", ""))
    values = form_values(_state(view))
    assignee_id = values.get(str(Ids.REFERRAL_ASSIGNEE))
    if not assignee_id:
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): "Choose a lead."})
        return
    try:
        assignee = resolve_actor(
            unit.session, unit.partnership, assignee_id, now=unit.now, settings=unit.ctx.settings
        )
        change = referrals.assign(
            unit.session, unit.partnership, unit.me, reference, assignee, now=unit.now
        )
    except referrals.NotALead as exc:
        _settle(unit)  # the refusal's audit record
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): rv.plain_error(str(exc))})
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): rv.plain_error(str(exc))})
        return
    _settle(unit)
    ack(
        response_action="update",
        view=rv.build_done_view(reference, [rv.confirmation_text(change)]),
    )
    _after_change(client, unit, change)


def _present(view: Mapping[str, Any], block_id: str) -> str:
    """``block_id`` if the submitted view has that input, else its first input's id.

    Slack rejects errors keyed to a block the view does not have.
    """
    values = _state(view)
    ids = [str(k) for k in values] if isinstance(values, Mapping) else []
    return block_id if block_id in ids or not ids else ids[0]


def _state(view: Mapping[str, Any]) -> object:
    state = view.get("state")
    return state.get("values") if isinstance(state, Mapping) else None


def _on_action_submit(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    unit = unit_of(context)
    view = _view(body)
    reference = str(view.get("private_metadata", ""))
    values = form_values(_state(view))
    to = values.get(str(Ids.REFERRAL_REFER_ON))
    note = (values.get(str(Ids.REFERRAL_NOTE)) or "").strip()
    outcome = (values.get(str(Ids.REFERRAL_OUTCOME)) or "").strip()
    if not (to or note or outcome):
        ack(
            response_action="errors",
            errors={
                _present(view, str(Ids.REFERRAL_NOTE)): "Fill this in to save, or press Back "
                "to leave the referral as it is."
            },
        )
        return
    if to is not None and to not in {r.value for r in referrals.ReferOn}:
        ack(
            response_action="errors",
            errors={_present(view, str(Ids.REFERRAL_REFER_ON)): "Choose from the list."},
        )
        return
    changes: list[referrals.StatusChange] = []
    step = str(Ids.REFERRAL_REFER_ON)
    try:
        s, p, me, now = unit.session, unit.partnership, unit.me, unit.now
        if to:
            changes.append(referrals.refer_on(s, p, me, reference, referrals.ReferOn(to), now=now))
        step = str(Ids.REFERRAL_NOTE)
        if note:
            changes.append(referrals.add_note(s, p, me, reference, note, now=now))
        step = str(Ids.REFERRAL_OUTCOME)
        if outcome:
            changes.append(referrals.close(s, p, me, reference, outcome, now=now))
    except referrals.NotALead as exc:
        _settle(unit)  # the refusal's audit record
        ack(response_action="errors", errors={_present(view, step): rv.plain_error(str(exc))})
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={_present(view, step): rv.plain_error(str(exc))})
        return
    _settle(unit)
    ack(
        response_action="update",
        view=rv.build_done_view(reference, [rv.confirmation_text(c) for c in changes]),
    )
    for change in changes:
        _after_change(client, unit, change)


def register(app: App, ctx: AppContext) -> None:
    install_log_guard()
    crypto.configure(ctx.settings.encryption_keys)
    app.view(str(Ids.REFERRAL_MODAL))(_on_submit)
    app.action(str(Ids.REFERRAL_ACK))(_on_ack)
    app.action(str(Ids.REFERRAL_VIEW))(_on_view)
    app.action(str(Ids.REFERRAL_ASSIGN))(_on_assign)
    app.view(str(Ids.REFERRAL_ASSIGN_MODAL))(_on_assign_submit)
    app.view(str(Ids.REFERRAL_ACTION_MODAL))(_on_action_submit)
    for step_id in _STEPS:
        app.action(step_id)(_on_step)
