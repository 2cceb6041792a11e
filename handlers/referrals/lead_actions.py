"""A lead's referral buttons and modals: acknowledge, View, assign, refer on, note and close."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.errors import UserError
from bot.ids import Ids
from bot.plan.members import resolve_actor
from bot.referrals.access import NotALead, require_lead
from bot.referrals.models import StatusChange
from bot.referrals.reading import view as view_referral
from bot.referrals.vocabulary import ReferOn
from bot.referrals.workflow import acknowledge, add_note, assign, close, refer_on, summary_of
from bot.slack.referral_detail import build_detail_view
from bot.slack.referral_form import plain_error
from bot.slack.referral_lead import (
    build_assign_view,
    build_done_view,
    build_step_view,
    confirmation_text,
)
from handlers.referrals.guards import sensitive_client, trigger_client
from handlers.referrals.payloads import form_values, view_of
from handlers.referrals.sending import after_change, settle
from handlers.uow import Unit, unit_of, unit_of_work

log = logging.getLogger(__name__)


def _in_modal(body: Mapping[str, Any]) -> bool:
    """Whether the click came from a modal (a lead's view), not a message or App Home."""
    return view_of(body).get("type") == "modal"


def _action_value(body: Mapping[str, Any]) -> str:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return str(actions[0].get("value") or "")
    return ""


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


def _on_ack(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    unit = unit_of(context)
    reference = _action_value(body)
    try:
        change = acknowledge(unit.session, unit.partnership, unit.me, reference, now=unit.now)
    except UserError as exc:
        settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    settle(unit)
    after_change(client, unit, change)
    notice = confirmation_text(change)
    if _in_modal(body) and _refresh_detail(client, unit, body, reference, notice):
        return
    _tell(client, body, unit.me.slack_user_id, notice)


def _refresh_detail(
    client: WebClient,
    unit: Unit,
    body: Mapping[str, Any],
    reference: str,
    notice: str | None,
    *,
    view_id: str | None = None,
) -> bool:
    """Redraw the lead's open view (or the view ``view_id``) with ``notice`` on top;
    False if that was not possible.

    Reading the details again is audited as a view, like any other read.
    """
    view = view_of(body)
    try:
        detail = view_referral(unit.session, unit.partnership, unit.me, reference, now=unit.now)
        settle(unit)
        sensitive_client(client).views_update(
            view_id=view_id or str(view.get("id", "")),
            view=build_detail_view(detail, notice=notice),
        )
    except UserError:
        settle(unit)
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
        detail = view_referral(unit.session, unit.partnership, unit.me, reference, now=unit.now)
    except UserError as exc:
        settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    settle(unit)
    try:
        _open_over(sensitive_client(client), body, build_detail_view(detail))
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
        require_lead(unit.session, unit.partnership, unit.me, "assign", reference, now=unit.now)
        summary_of(unit.session, unit.partnership, reference)
    except UserError as exc:
        settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    settle(unit)
    try:
        _open_over(client, body, build_assign_view(reference))
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
        require_lead(unit.session, unit.partnership, unit.me, step, reference, now=unit.now)
        summary_of(unit.session, unit.partnership, reference)
    except UserError as exc:
        settle(unit)  # a refusal's audit record
        _tell(client, body, unit.me.slack_user_id, str(exc))
        return
    settle(unit)
    try:
        _open_over(client, body, build_step_view(reference, step))
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
    view = view_of(body)
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
        change = assign(unit.session, unit.partnership, unit.me, reference, assignee, now=unit.now)
    except NotALead as exc:
        settle(unit)  # the refusal's audit record
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): plain_error(str(exc))})
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={str(Ids.REFERRAL_ASSIGNEE): plain_error(str(exc))})
        return
    settle(unit)
    ack(
        response_action="update",
        view=build_done_view(reference, [confirmation_text(change)]),
    )
    after_change(client, unit, change)
    _refresh_under(client, unit, body, reference)


def _refresh_under(client: WebClient, unit: Unit, body: Mapping[str, Any], reference: str) -> None:
    """A step pushed over the lead's view is done: redraw that view underneath, so it
    shows the referral as it is now (once closed, with no buttons left to press)."""
    under = view_of(body).get("previous_view_id")
    if under:
        _refresh_detail(client, unit, body, reference, None, view_id=str(under))


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
    view = view_of(body)
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
    if to is not None and to not in {r.value for r in ReferOn}:
        ack(
            response_action="errors",
            errors={_present(view, str(Ids.REFERRAL_REFER_ON)): "Choose from the list."},
        )
        return
    changes: list[StatusChange] = []
    step = str(Ids.REFERRAL_REFER_ON)
    try:
        s, p, me, now = unit.session, unit.partnership, unit.me, unit.now
        if to:
            changes.append(refer_on(s, p, me, reference, ReferOn(to), now=now))
        step = str(Ids.REFERRAL_NOTE)
        if note:
            changes.append(add_note(s, p, me, reference, note, now=now))
        step = str(Ids.REFERRAL_OUTCOME)
        if outcome:
            changes.append(close(s, p, me, reference, outcome, now=now))
    except NotALead as exc:
        settle(unit)  # the refusal's audit record
        ack(response_action="errors", errors={_present(view, step): plain_error(str(exc))})
        return
    except UserError as exc:
        unit.session.rollback()
        ack(response_action="errors", errors={_present(view, step): plain_error(str(exc))})
        return
    settle(unit)
    ack(
        response_action="update",
        view=build_done_view(reference, [confirmation_text(c) for c in changes]),
    )
    for change in changes:
        after_change(client, unit, change)
    _refresh_under(client, unit, body, reference)


def register(app: App) -> None:
    app.action(str(Ids.REFERRAL_ACK))(unit_of_work(_on_ack))
    app.action(str(Ids.REFERRAL_VIEW))(unit_of_work(_on_view))
    app.action(str(Ids.REFERRAL_ASSIGN))(unit_of_work(_on_assign))
    app.view(str(Ids.REFERRAL_ASSIGN_MODAL))(unit_of_work(_on_assign_submit))
    app.view(str(Ids.REFERRAL_ACTION_MODAL))(unit_of_work(_on_action_submit))
    for step_id in _STEPS:
        app.action(step_id)(unit_of_work(_on_step))
