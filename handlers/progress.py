"""Progress logging: typed, through the modal, or from a "Log progress" button.

Database work happens and is committed before ``ack()``; after it only Slack calls
are made, with no database lock held.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import IntegrityError

from bot.context import AppContext
from bot.errors import UserError
from bot.ids import Ids
from bot.notices.progress_updates import queue_progress_update
from bot.plan.progress import ProgressResult, log_progress_result, repeated_progress
from bot.plan.reading import get_objective
from bot.plan.years import local_date
from bot.slack.blocks import build_message_modal
from bot.slack.progress import (
    DONE_VALUE,
    NO_CHANGE_VALUE,
    build_progress_confirmation_blocks,
    build_progress_saved_modal,
    progress_channel_item,
    progress_confirmation_text,
)
from bot.slack.progress_form import ProgressFormState, build_progress_modal
from bot.slack.text_render import mrkdwn_to_text
from bot.text.commands import NOTE_MAX
from bot.text.matching import action_number_of, match_objective
from bot.text.mrkdwn import esc
from handlers.announce import wake_announcer
from handlers.metadata import sign_metadata, verified_metadata
from handlers.progress_choice import action_problem, objective_and_action
from handlers.repeats import view_keys
from handlers.uow import Unit, unit_of, unit_of_work
from store.models import ObjectiveStatus, Rag

log = logging.getLogger(__name__)

MAX_BACKDATE_DAYS = 400
MAX_LINK = 2000


def register(app: App, ctx: AppContext) -> None:
    app.action(Ids.PROGRESS_OPEN)(unit_of_work(open_from_button))
    app.view(Ids.PROGRESS_MODAL)(unit_of_work(submit_progress))


def _rag(word: str | None) -> Rag | None:
    return Rag(word) if word in ("red", "amber", "green") else None


def link_problem(url: str) -> str | None:
    """Why ``url`` is not a usable evidence link (one kind sentence), or None."""
    if any(ch.isspace() for ch in url):
        return (
            "A link can't contain spaces; copy it from the browser's address bar "
            "(spaces there show as %20)."
        )
    if len(url) > MAX_LINK:
        return f"That link is longer than {MAX_LINK:,} characters; use a shorter one."
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "Give a full web link starting with https://, like https://example.org/report"
    return None


def already_done(unit: Unit, objective_id: int) -> str | None:
    """A sentence like "Partnership Plan was already marked done by <@U1> on 3 Dec 2026." when the
    objective is closed, else None (marking it done again would change nothing)."""
    objective = get_objective(unit.session, unit.read_partnership, objective_id)
    if objective.status != ObjectiveStatus.DONE:
        return None
    entries = sorted((e for e in objective.progress if e.done), key=lambda e: (e.created_at, e.id))
    title = esc(objective.title)
    if not entries:
        return f"{title} was already done."
    last = entries[-1]
    who = last.slack_user_id or last.author
    by = f" by <@{who}>" if who and who[:1] in ("U", "W") and who.isalnum() else ""
    day = local_date(last.created_at, unit.read_partnership.timezone)
    return f"{title} was already marked done{by} on {day.day} {day:%b %Y}."


def earlier_progress(unit: Unit, keys: Sequence[str]) -> ProgressResult | None:
    """What an earlier identical request saved (see :mod:`handlers.repeats`), or None."""
    if not keys:
        return None
    return repeated_progress(unit.session, unit.read_partnership, keys, unit.now)


def repeated_answer(
    unit: Unit, keys: Sequence[str], *, note: str, done: bool, rag: str | None
) -> tuple[str, list[Block]] | None:
    """The confirmation's text and blocks for a request already saved once, else None."""
    earlier = earlier_progress(unit, keys)
    if earlier is None:
        return None
    if done and earlier.entry_done is False:  # the first time, "done" was kept as a note
        done = False
        earlier = replace(
            earlier,
            not_closed="it could not be closed the first time either; the note was saved "
            "once and it stays open.",
        )
    return (
        progress_confirmation_text(earlier.summary, done=done, result=earlier),
        build_progress_confirmation_blocks(
            earlier.summary, note=note, done=done, rag=rag, result=earlier
        ),
    )


def save_progress(
    unit: Unit,
    objective_id: int,
    *,
    rag: str | None,
    done: bool,
    note: str,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
    keys: Sequence[str] = (),
    keep_note: bool = False,
    action_number: int | None = None,
) -> ProgressResult:
    """Store the update under the request's first key (``keep_note``: a "done" that
    cannot close the objective still saves the note; see log_progress_result). When
    the same request is being saved at this moment in another thread, the key's unique
    constraint stops the second entry, and this one answers from the first."""
    try:
        result = log_progress_result(
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
            request_key=keys[0] if keys else None,
            keep_note=keep_note,
            action_number=action_number,
        )
        closed = done and result.not_closed is None  # a kept note is not a "done"
        queue_announcement(unit, result, note=note, done=closed, rag=rag)
        return result
    except IntegrityError:
        unit.session.rollback()
        earlier = earlier_progress(unit, keys)
        if earlier is None:
            raise
        return earlier


def queue_announcement(
    unit: Unit, result: ProgressResult, *, note: str, done: bool, rag: str | None
) -> bool:
    """Queue the update's partnership-channel post in this transaction (see
    :mod:`bot.notices.progress_updates`); True if queued. The channel is the stored one
    (`/csp setup`, or the environment's first value). Posting it is the announcer's
    work after the commit (:func:`handlers.announce.wake_announcer`), never a listener's."""
    settings = unit.ctx.settings
    channel = unit.read_partnership.partnership_channel
    if not settings.post_progress_to_channel or not channel:
        return False
    if result.repeated or result.entry_id is None:  # the first request queued it
        return False
    text, status = progress_channel_item(
        result.summary, user_id=unit.me.slack_user_id, note=note, done=done, rag=rag, result=result
    )
    queue_progress_update(
        unit.session,
        unit.read_partnership.id,
        channel,
        entry_id=result.entry_id,
        text=text,
        status=status,
        fallback=progress_confirmation_text(result.summary, done=done, result=result),
        now=unit.now,
    )
    return True


def progress_modal(
    unit: Unit,
    state: ProgressFormState,
    *,
    response_url: str | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if response_url:
        meta["response_url"] = response_url
    if channel_id:
        meta["channel_id"] = channel_id
    choices = unit.objective_choices()
    view: dict[str, Any] = build_progress_modal(
        choices, state, private_metadata=meta, actions=unit.action_choices()
    ).to_dict()
    # What the modal carries back (the objective, the response URL) is signed for
    # this user, so a forged submission can neither redirect nor retarget it.
    carried = json.loads(view.get("private_metadata") or "{}")
    view["private_metadata"] = sign_metadata(unit.ctx.settings, carried, unit.me.slack_user_id)
    return view


def open_progress_form(
    unit: Unit, body: dict[str, Any], client: WebClient, ack: Ack, objective_id: int | None = None
) -> None:
    """`/csp progress` (or `/csp progress dhr`): ack, then the modal, with the objective
    already chosen when one was named."""
    view = progress_modal(
        unit,
        ProgressFormState(objective_id=objective_id),
        response_url=body.get("response_url"),
        channel_id=body.get("channel_id"),
    )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def open_from_button(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """ "Log progress" on a message or the Home tab: the modal, prefilled."""
    unit = unit_of(context)
    objective_id, number = objective_and_action(body["actions"][0].get("value"))
    view = progress_modal(
        unit,
        ProgressFormState(objective_id=objective_id, action_number=number),
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
    meta = verified_metadata(
        unit.ctx.settings, str(view.get("private_metadata") or ""), unit.me.slack_user_id
    )
    if meta is None:
        log.warning("refused a progress form whose private_metadata failed its signature check")
        ack(
            response_action="update",
            view=build_message_modal(
                "Form not accepted",
                "This form could not be checked, so nothing was saved. Close it and open "
                "a new one with `/csp progress` (or the Log progress button).",
            ),
        )
        return
    errors: dict[str, str] = {}

    objective_id = meta.get("objective_id")
    number = meta.get("action_number")
    if objective_id is None:
        chosen = _value(values, Ids.PROGRESS_OBJECTIVE)
        selected = chosen.get("selected_option") or {}
        if selected.get("value"):
            objective_id, number = objective_and_action(selected["value"])
        else:
            typed, number = action_number_of(
                (chosen.get("value") or "").strip(), unit.objective_choices()
            )
            found = match_objective(typed, unit.objective_choices())
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
    if status in (None, "", NO_CHANGE_VALUE):
        status = None  # no change: the update is a note
    elif status not in ("red", "amber", "green", DONE_VALUE):
        errors[Ids.PROGRESS_RAG] = "Choose red, amber, green, done, or leave it for no change."

    note = (_value(values, Ids.PROGRESS_NOTE).get("value") or "").strip()
    if not note:
        errors[Ids.PROGRESS_NOTE] = "Write a sentence about what has happened."
    elif len(note) > NOTE_MAX:
        errors[Ids.PROGRESS_NOTE] = (
            f"That is {len(note):,} characters; please keep it to {NOTE_MAX:,} or fewer "
            "(link to a document for the rest)."
        )

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
    if url:
        problem = link_problem(url)
        if problem:
            errors[Ids.PROGRESS_EVIDENCE] = problem

    if objective_id is not None:
        number, problem = action_problem(int(objective_id), number, unit.action_choices(), values)
        if problem:
            where = Ids.PROGRESS_ACTION if meta.get("objective_id") else Ids.PROGRESS_OBJECTIVE
            errors[where] = problem
    if errors or objective_id is None:
        ack(response_action="errors", errors=errors)
        return

    done = status == DONE_VALUE
    rag = None if done else status
    keys = view_keys(view)
    result = earlier_progress(unit, keys)  # this very view submitted again: answer as then
    if result is None:
        was_done = already_done(unit, int(objective_id)) if done else None
        if was_done is not None:
            ack(
                response_action="errors",
                errors={
                    Ids.PROGRESS_RAG: f"{mrkdwn_to_text(was_done)} Choose red, amber, "
                    "green or no change to add an update."
                },
            )
            return
        try:
            result = save_progress(
                unit,
                int(objective_id),
                rag=rag,
                done=done,
                note=note,
                as_of=as_of,
                evidence_url=url,
                keys=keys,
                action_number=number,
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
    unit.commit()
    response_url = meta.get("response_url")
    if response_url:
        ack()
        try:
            WebhookClient(str(response_url)).send(
                text=progress_confirmation_text(summary, done=done, result=result),
                blocks=build_progress_confirmation_blocks(
                    summary,
                    note=note,
                    done=done,
                    rag=rag,
                    result=result,
                    as_of=as_of,
                    evidence_url=url,
                ),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:
            log.warning("could not confirm a progress update", exc_info=True)
    else:
        ack(
            response_action="update",
            view=build_progress_saved_modal(
                summary, done=done, result=result, as_of=as_of, evidence_url=url
            ),
        )
    if not result.repeated:  # the first submission queued its channel post
        wake_announcer(unit.ctx, client)
