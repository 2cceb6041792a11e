"""Slack listeners for safeguarding referrals: the form, the alert buttons, the lead's modals.

Thin: parse, call :mod:`bot.referrals`, render with :mod:`bot.referral_views`, reply.
Refusals (:class:`bot.referrals.NotALead`) are caught inside the request's unit of
work so their audit records are committed. Referral contents travel only in the
lead's detail modal, which is opened through a client whose logger never prints
(slack_sdk logs request and response bodies at DEBUG); :func:`install_log_guard`
withholds DEBUG records of the Slack and HTTP libraries for the same reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient

from bot import crypto, referrals
from bot import referral_views as rv
from bot.context import AppContext
from bot.deliveries import delivery_metadata
from bot.errors import UserError
from bot.ids import Ids
from bot.plan import resolve_actor
from bot.settings import ConfigError
from handlers.app import Unit, unit_of
from scheduler import outbox

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
# Slack errors after which a DM will never go through (the user left, was removed...).
_DM_GONE_ERRORS: Final = frozenset(
    {"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot", "channel_not_found"}
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


def _dm(client: WebClient, user_id: str, text: str, blocks: list[Block] | None = None) -> None:
    if not user_id:
        return
    try:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not send a referral DM to %s: %s", user_id, type(exc).__name__)


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
    if change.changed and change.event in ("acknowledged", "assigned", "referred_on", "closed"):
        _dm(
            client,
            change.referrer_slack_id,
            rv.status_dm_text(change.summary, change.event, change.by),
        )


# --------------------------------------------------------------------------- entry points


def open_referral_form(client: WebClient, trigger_id: str, unit: Unit) -> None:
    """Open the referral modal (``/csp refer``). Raises UserError if referrals are off."""
    if not crypto.is_configured():
        raise UserError(
            f"{rv.DANGER_LINE} Referrals cannot be taken in Slack yet because no "
            "encryption key is set (CSP_ENCRYPTION_KEY); contact your safeguarding lead "
            "directly and ask an admin to set the key."
        )
    client.views_open(trigger_id=trigger_id, view=rv.build_referral_form_view())


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


def _slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "slack_error")
    return type(exc).__name__


def _claim(unit: Unit, alerts: Sequence[referrals.AlertDelivery]) -> list[referrals.AlertDelivery]:
    """Mark the alerts' outbox rows in flight under a lease and commit, before any post.

    The outbox's own claim (:func:`scheduler.outbox.mark_in_flight`): if this process
    dies after Slack took a post and before it was recorded as sent, the outbox finds
    the post by its metadata key once the lease runs out instead of posting it again.
    Rows taken or settled by someone else meanwhile are left to them.
    """
    ids = referrals.alert_row_ids(unit.session, alerts)
    taken = outbox.mark_in_flight(unit.session, list(ids.values()), unit.now, due_only=False)
    _settle(unit)
    return [a for a in alerts if ids.get(a.key) in taken]


def _alert_channel(client: WebClient, target: str) -> str:
    """Where the outbox would post to ``target``: a user's DM channel, else the channel.

    Posting to the same channel the outbox uses keeps a post findable by its metadata
    key in that channel's ``conversations.history``.
    """
    if target[:1] not in ("U", "W"):
        return target
    opened = client.conversations_open(users=[target]).get("channel")
    found = opened.get("id") if isinstance(opened, Mapping) else None
    return str(found) if found else target


def _not_sent(unit: Unit, key: str, exc: Exception) -> str:
    """Give a claimed alert back to the outbox after a failed post; returns the error."""
    error = _slack_error(exc)
    if isinstance(exc, SlackApiError):  # Slack answered: nothing was posted
        verdict = outbox.classify(exc)
        limited = verdict.outcome == "rate_limited"
        wait = dt.timedelta(seconds=verdict.retry_after or 30.0) if limited else outbox.backoff(1)
        referrals.alert_not_sent(
            unit.session,
            key,
            error=error,
            retry_at=unit.now + wait,
            maybe_posted=False,
            count_attempt=not limited,
        )
    else:  # no answer: it may have been posted, so the outbox looks before resending
        referrals.alert_not_sent(
            unit.session, key, error=error, retry_at=unit.now + outbox.backoff(1), maybe_posted=True
        )
    _settle(unit)
    return error


def _post_alert(
    client: WebClient,
    unit: Unit,
    created: referrals.ReferralCreated,
    alert: referrals.AlertDelivery,
) -> str | None:
    """Post one claimed DM alert (or admin notice) now; None if it went, else Slack's error."""
    summary = created.summary
    if created.route == referrals.AlertRoute.NOBODY:
        text, blocks = rv.no_leads_text(summary), rv.build_no_leads_blocks(summary)
    else:
        text, blocks = rv.alert_text(summary), rv.build_alert_blocks(summary)
    try:
        channel = _alert_channel(client, alert.target)
        posted = client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, metadata=delivery_metadata(alert.key)
        )
    except (SlackApiError, SlackClientError, OSError) as exc:
        error = _slack_error(exc)
        if isinstance(exc, SlackApiError) and error in _DM_GONE_ERRORS:
            referrals.record_direct_alert(unit.session, alert.key, now=unit.now, error=error)
            _settle(unit)
        else:  # a passing failure: the outbox retries it
            _not_sent(unit, alert.key, exc)
        log.warning("alert %s not sent now: %s", alert.key, error)
        return error
    referrals.record_direct_alert(
        unit.session,
        alert.key,
        now=unit.now,
        channel=str(posted.get("channel") or channel),
        ts=str(posted.get("ts")),
    )
    _settle(unit)
    return None


def _send_alerts(
    client: WebClient, unit: Unit, created: referrals.ReferralCreated
) -> tuple[rv.AlertOutcome, bool]:
    """Alert the leads now (channel, else DMs, else the admins).

    Each alert's outbox row is claimed (in flight, committed) before it is posted and
    recorded as sent after, so a crash in between is reconciled by the outbox rather
    than posted twice. Returns what the receipt should say, and whether any admin was
    told.
    """
    route, alerts = created.route, created.alerts
    settings = unit.ctx.settings
    if route == referrals.AlertRoute.CHANNEL and alerts:
        if not _claim(unit, alerts[:1]):
            return rv.AlertOutcome.RETRYING, False  # the outbox has it already
        channel = alerts[0].target
        try:
            posted = client.chat_postMessage(
                channel=channel,
                text=rv.alert_text(created.summary),
                blocks=rv.build_alert_blocks(created.summary),
                metadata=delivery_metadata(alerts[0].key),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = _slack_error(exc)
            if not (isinstance(exc, SlackApiError) and error in referrals.CHANNEL_UNUSABLE_ERRORS):
                _not_sent(unit, alerts[0].key, exc)
                log.warning("alert for %s left to the outbox: %s", created.reference, error)
                return rv.AlertOutcome.RETRYING, False
            route, alerts = referrals.channel_alert_refused(
                unit.session,
                unit.partnership,
                created.reference,
                reason=error,
                now=unit.now,
                leads=settings.safeguarding_leads,
                admins=settings.admins,
            )
            _settle(unit)
            created = replace(created, route=route, alerts=alerts)
        else:
            referrals.record_alert_posted(
                unit.session,
                unit.partnership,
                created.reference,
                channel=str(posted.get("channel") or channel),
                ts=str(posted.get("ts")),
                now=unit.now,
            )
            _settle(unit)
            return rv.AlertOutcome.CHANNEL, False
    mine = {a.key for a in _claim(unit, alerts)}
    failures = [
        _post_alert(client, unit, created, alert) if alert.key in mine else "claimed elsewhere"
        for alert in alerts
    ]
    if route == referrals.AlertRoute.NOBODY:
        return rv.AlertOutcome.NOBODY, bool(alerts)
    return (rv.AlertOutcome.DIRECT if None in failures else rv.AlertOutcome.RETRYING), False


def _on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    unit = unit_of(context)
    view = _view(body)
    state = view.get("state")
    raw = form_values(state.get("values") if isinstance(state, Mapping) else None)
    try:
        form = referrals.validate_referral_form(raw, today=unit.today)
    except referrals.FormInvalid as exc:
        ack(response_action="errors", errors=exc.errors)
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
        ack(response_action="errors", errors={str(Ids.REFERRAL_WHAT): str(exc)[:300]})
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
    outcome, admins_told = _send_alerts(client, unit, created)
    _settle(unit)
    _dm(
        client,
        created.referrer_slack_id,
        rv.receipt_text(created.reference, outcome, admins_told=admins_told),
        rv.build_receipt_blocks(
            created.reference, created.prompts, outcome, admins_told=admins_told
        ),
    )


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
    if not change.changed:
        _tell(
            client,
            body,
            unit.me.slack_user_id,
            f"{reference} was already acknowledged; open it with View to add notes or close it.",
        )


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
        sensitive_client(client).views_open(
            trigger_id=str(body.get("trigger_id", "")), view=rv.build_detail_view(detail)
        )
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
    client.views_open(
        trigger_id=str(body.get("trigger_id", "")), view=rv.build_assign_view(reference)
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
    except UserError as exc:
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): str(exc)[:150]})
        return
    _settle(unit)
    ack()
    _after_change(client, unit, change)
    if change.changed and assignee_id != unit.me.slack_user_id:
        _dm(client, assignee_id, rv.assigned_dm_text(change.summary, unit.me.slack_user_id))


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
                str(Ids.REFERRAL_NOTE): "Choose where it was referred, add a note or write "
                "an outcome; or press Close to leave it as it is."
            },
        )
        return
    if to is not None and to not in {r.value for r in referrals.ReferOn}:
        ack(response_action="errors", errors={str(Ids.REFERRAL_REFER_ON): "Choose from the list."})
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
        ack(response_action="errors", errors={step: str(exc)[:300]})
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={step: str(exc)[:300]})
        return
    _settle(unit)
    ack()
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
