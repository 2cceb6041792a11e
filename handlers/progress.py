"""Progress logging: typed, through the modal, or from a "Log progress" button.

Database work happens and is committed before ``ack()``; after it only Slack calls
are made, with no database lock held.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import views
from bot.context import AppContext
from bot.errors import UserError
from bot.ids import Ids
from bot.matching import match_objective
from bot.plan import ProgressResult, log_progress_result, objective_choices
from bot.settings import Settings
from handlers.app import Unit, unit_of
from store.models import Rag

log = logging.getLogger(__name__)

MAX_BACKDATE_DAYS = 400


def register(app: App, ctx: AppContext) -> None:
    app.action(Ids.PROGRESS_OPEN)(open_from_button)
    app.view(Ids.PROGRESS_MODAL)(submit_progress)


def _rag(word: str | None) -> Rag | None:
    return Rag(word) if word in ("red", "amber", "green") else None


def save_progress(
    unit: Unit,
    objective_id: int,
    *,
    rag: str | None,
    done: bool,
    note: str,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> ProgressResult:
    return log_progress_result(
        unit.session,
        unit.read_partnership,
        unit.me,
        objective_id,
        rag=_rag(rag),
        done=done,
        note=note,
        now=unit.now,
        as_of=as_of,
        evidence_url=evidence_url,
    )


def announce(
    client: WebClient,
    settings: Settings,
    result: ProgressResult,
    *,
    user_id: str,
    note: str,
    done: bool,
    rag: str | None,
) -> None:
    """A short update in the partnership channel, when configured. Never raises."""
    channel = settings.partnership_channel
    if not settings.post_progress_to_channel or not channel:
        return
    try:
        client.chat_postMessage(
            channel=channel,
            text=views.progress_confirmation_text(result.summary, done=done, result=result),
            blocks=views.build_progress_channel_blocks(
                result.summary, user_id=user_id, note=note, done=done, rag=rag, result=result
            ),
            unfurl_links=False,
        )
    except Exception:
        log.warning("could not post a progress update to %s", channel, exc_info=True)


def progress_modal(
    unit: Unit,
    state: views.ProgressFormState,
    *,
    response_url: str | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if response_url:
        meta["response_url"] = response_url
    if channel_id:
        meta["channel_id"] = channel_id
    choices = objective_choices(unit.session, unit.partnership)
    view: dict[str, Any] = views.build_progress_modal(
        choices, state, private_metadata=meta
    ).to_dict()
    return view


def open_from_button(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """ "Log progress" on a message or the Home tab: the modal, prefilled."""
    unit = unit_of(context)
    action = body["actions"][0]
    try:
        objective_id: int | None = int(action.get("value") or "")
    except ValueError:
        objective_id = None
    view = progress_modal(
        unit,
        views.ProgressFormState(objective_id=objective_id),
        response_url=body.get("response_url"),
        channel_id=(body.get("channel") or {}).get("id"),
    )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    found = values.get(block, {}).get(block)
    return found if isinstance(found, dict) else {}


def submit_progress(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Validate the form; bad fields go back as errors (Slack keeps what was typed)."""
    unit = unit_of(context)
    view = body["view"]
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    errors: dict[str, str] = {}

    objective_id = meta.get("objective_id")
    if objective_id is None:
        chosen = _value(values, Ids.PROGRESS_OBJECTIVE)
        selected = chosen.get("selected_option") or {}
        if selected.get("value"):
            objective_id = int(selected["value"])
        else:
            typed = (chosen.get("value") or "").strip()
            found = match_objective(typed, objective_choices(unit.session, unit.partnership))
            if found.single is not None:
                objective_id = found.single[0]
            elif found.kind == "several":
                names = "; ".join(t for _, t in found.objectives[:5])
                errors[Ids.PROGRESS_OBJECTIVE] = f"Several objectives match: {names}. Type more."
            elif typed:
                close = "; ".join(t for _, t in found.suggestions)
                hint = f" Closest: {close}." if close else ""
                errors[Ids.PROGRESS_OBJECTIVE] = f"No objective matches that.{hint}"
            else:
                errors[Ids.PROGRESS_OBJECTIVE] = "Choose the objective this update is about."

    status = (_value(values, Ids.PROGRESS_RAG).get("selected_option") or {}).get("value")
    if status not in ("red", "amber", "green", views.DONE_VALUE):
        errors[Ids.PROGRESS_RAG] = "Choose red, amber, green or done."

    note = (_value(values, Ids.PROGRESS_NOTE).get("value") or "").strip()
    if not note:
        errors[Ids.PROGRESS_NOTE] = "Write a sentence about what has happened."
    elif len(note) > views.NOTE_MAX:
        errors[Ids.PROGRESS_NOTE] = f"Please keep it under {views.NOTE_MAX} characters."

    as_of: dt.date | None = None
    picked = _value(values, Ids.PROGRESS_DATE).get("selected_date")
    if picked:
        try:
            as_of = dt.date.fromisoformat(picked)
        except ValueError:
            errors[Ids.PROGRESS_DATE] = "That is not a date; pick one from the calendar."
        else:
            if as_of > unit.today:
                errors[Ids.PROGRESS_DATE] = (
                    "The date can't be in the future; leave it empty for today."
                )
            elif (unit.today - as_of).days > MAX_BACKDATE_DAYS:
                errors[Ids.PROGRESS_DATE] = "That is more than a year ago; pick a recent date."

    url = (_value(values, Ids.PROGRESS_EVIDENCE).get("value") or "").strip() or None
    if url and (not url.lower().startswith(("https://", "http://")) or len(url) > 2000):
        errors[Ids.PROGRESS_EVIDENCE] = "Give a full link starting with https://"

    if errors or objective_id is None:
        ack(response_action="errors", errors=errors)
        return

    done = status == views.DONE_VALUE
    rag = None if done else status
    try:
        result = save_progress(
            unit, int(objective_id), rag=rag, done=done, note=note, as_of=as_of, evidence_url=url
        )
    except UserError as error:
        if not done:
            raise
        log.debug("done refused: %s", error)
        ack(
            response_action="errors",
            errors={
                Ids.PROGRESS_RAG: "This objective is ongoing: nothing dated to mark done. "
                "Choose red, amber or green instead."
            },
        )
        return
    summary = result.summary
    user_id = unit.me.slack_user_id
    unit.commit()
    response_url = meta.get("response_url")
    if response_url:
        ack()
        try:
            WebhookClient(str(response_url)).send(
                text=views.progress_confirmation_text(summary, done=done, result=result),
                blocks=views.build_progress_confirmation_blocks(
                    summary, note=note, done=done, rag=rag, result=result
                ),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:
            log.warning("could not confirm a progress update", exc_info=True)
    else:
        ack(
            response_action="update",
            view=views.build_progress_saved_modal(summary, done=done, result=result),
        )
    announce(client, unit.ctx.settings, result, user_id=user_id, note=note, done=done, rag=rag)
