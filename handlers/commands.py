"""`/csp`: one listener that parses, calls the core, and answers within 3 seconds.

Answers go in the ack (ephemeral). Database work is done and committed before
``ack()``, so no database lock is held while Slack answers. A command answered in
its ack does nothing after it and runs in the request's own thread
(:func:`answered_in_ack`, :mod:`handlers.inline`); the few that ack and then open a
modal or send a file run on Bolt's executor, so Slack has its answer first.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.context import AppContext
from bot.errors import NotAllowed, UsageError
from bot.ids import Ids
from bot.notices.digest import build_digest
from bot.notices.digest_blocks import build_digest_blocks, digest_text, preview_note
from bot.plan.meetings import refuse_past_meeting, set_meeting, upcoming_meetings
from bot.plan.members import bootstrap_ids, set_role
from bot.plan.reading import (
    due_items,
    list_objectives,
    objective_detail,
    plan_memo,
)
from bot.plan.schedule import reminder_policy
from bot.slack.blocks import MAX_MESSAGE_BLOCKS, fmt_date, section
from bot.slack.blocks import context as context_block
from bot.slack.help import build_help_blocks, help_text
from bot.slack.meetings import build_meeting_set_blocks, build_meetings_blocks
from bot.slack.plan_views import (
    build_due_blocks,
    build_objective_blocks,
    build_plan_blocks,
    plan_pages,
)
from bot.slack.progress import (
    build_no_match_blocks,
    build_pick_blocks,
    build_progress_confirmation_blocks,
    pick_fits,
    picked_note,
    progress_confirmation_text,
)
from bot.slack.wire import to_wire
from bot.text import commands as cmd
from bot.text.dates import day_off_note
from bot.text.due_words import DueWords, due_horizon
from bot.text.help import USAGE
from bot.text.matching import action_number_of, match_objective, names_only, split_objective
from bot.text.mrkdwn import esc, esc_code
from bot.text.numbers import plural
from handlers.announce import wake_announcer
from handlers.calendar import calendar_reply
from handlers.inline import in_ack
from handlers.people import owner_reply, role_reply
from handlers.progress import (
    already_done,
    open_progress_form,
    repeated_answer,
    save_progress,
)
from handlers.progress_batch import batched_reply
from handlers.referrals.listing import list_referrals
from handlers.referrals.refer import open_referral_form
from handlers.repeats import command_keys
from handlers.reply import Reply
from handlers.reports import send_report
from handlers.setup import open_setup
from handlers.uow import Unit, unit_of, unit_of_work
from store.models import Role

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext) -> None:
    app.command("/csp")(in_ack(answered_in_ack)(unit_of_work(handle_csp)))
    app.action(re.compile(rf"^{Ids.PICK_OBJECTIVE}(:\d+)?$"))(unit_of_work(handle_pick))


def handle_csp(
    ack: Ack, command: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    unit = unit_of(context)
    parsed = cmd.parse_command(str(command.get("text") or ""))
    reply = dispatch(parsed, unit, body=body, context=context, client=client, ack=ack)
    if reply is None:
        return  # the command answered itself (a modal, or the referrals module)
    unit.commit()
    ack(text=reply.text, blocks=to_wire(reply.blocks), response_type="ephemeral")


def answered_in_ack(body: dict[str, Any]) -> bool:
    """Whether `/csp` with this text is answered in its ack with nothing after it (so
    it runs in the request's thread, see :mod:`handlers.inline`): every command but
    those that ack and then open a form or send a file."""
    try:
        parsed = cmd.parse_command(str(body.get("text") or ""))
    except UsageError:
        return True  # its usage is the answer
    except Exception:  # the listener, on the executor, will say what went wrong
        return False
    match parsed:
        case cmd.ProgressForm() | cmd.Setup() | cmd.Refer() | cmd.Report():
            return False
        case cmd.Progress():
            # An objective's name alone opens the form, which needs the plan to tell.
            return bool(parsed.rag or parsed.done or parsed.note)
    return True


def dispatch(
    parsed: cmd.Command,
    unit: Unit,
    *,
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    ack: Ack,
) -> Reply | None:
    """Run one parsed command; None when it acknowledged Slack itself."""
    match parsed:
        case cmd.Help(topic=topic):
            return Reply(
                help_text(),
                build_help_blocks(is_admin=unit.me.is_admin, topic=topic),
            )
        case cmd.PlanList(page=page):
            summaries = list_objectives(unit.session, unit.partnership, unit.today)
            pages = plan_pages(len(summaries))
            if page > pages:
                only = "only one page" if pages == 1 else f"only {pages} pages"
                raise UsageError(
                    f"The plan has {only}, so there is no page {page}. Type `/csp plan`"
                    + (f" or `/csp plan {pages}`." if pages > 1 else " to see it all."),
                    USAGE["plan"],
                )
            shown = min(page, pages)
            return Reply(
                f"The plan, page {shown} of {pages}.",
                build_plan_blocks(summaries, page=page, plan_year=unit.partnership.plan_year),
            )
        case cmd.Show(query=query):
            found = resolve(unit, query, action="show")
            if isinstance(found, Reply):
                return found
            detail = objective_detail(unit.session, unit.partnership, found, unit.today)
            return Reply(esc(detail.summary.title), build_objective_blocks(detail))
        case cmd.Due():
            return due_reply(unit, parsed)
        case cmd.Meetings():
            meetings = upcoming_meetings(unit.session, unit.partnership, unit.today)
            return Reply(
                f"{plural(len(meetings), 'upcoming meeting')}.",
                build_meetings_blocks(meetings, is_admin=unit.me.is_admin),
            )
        case cmd.Progress():
            named = "" if parsed.rag or parsed.done or parsed.note else parsed.query
            alone = names_only(named, unit.objective_choices())
            if alone is not None:  # "/csp progress DHR": the form, DHR chosen
                open_progress_form(unit, body, client, ack, alone[0])
                return None
            return typed_progress(parsed, unit, client, keys=command_keys(body, unit.now))
        case cmd.ProgressForm():
            open_progress_form(unit, body, client, ack)
            return None
        case cmd.Owner(query=query, user_ids=user_ids, mode=mode):
            if not unit.me.is_admin:
                raise NotAllowed(
                    "Only partnership admins can assign owners. Ask an admin to run "
                    f"`/csp owner {esc_code(query)} {' '.join(f'<@{u}>' for u in user_ids)}`."
                )
            query, number = action_number_of(query, unit.objective_choices())
            found = resolve(unit, query, action="owner", u=",".join(user_ids), m=mode)
            if isinstance(found, Reply):
                return found
            return owner_reply(unit, found, user_ids, mode, action_number=number)
        case cmd.SetRole(user_id=user_id, role=role):
            admins, leads = bootstrap_ids(unit.partnership, unit.ctx.settings)
            change = set_role(
                unit.session,
                unit.partnership,
                unit.me,
                user_id,
                Role(role),
                now=unit.now,
                bootstrap_admins=admins,
            )
            return role_reply(change, listed_admin=user_id in admins, listed_lead=user_id in leads)
        case cmd.Meeting(body=meeting_body, date=when, time=start, place=place):
            refuse_past_meeting(unit.partnership, meeting_body, when, unit.now)
            meeting = set_meeting(
                unit.session,
                unit.partnership,
                unit.me,
                meeting_body,
                when,
                start,
                place,
                now=unit.now,
            )
            text = (
                f"Moved the {esc(meeting.body)} meeting from {meeting.moved_from} to "
                f"{fmt_date(meeting.meeting_date)}."
                if meeting.moved_from
                else f"Meeting set for {esc(meeting.body)}."
            )
            blocks: list[Block] = build_meeting_set_blocks(meeting)
            day_off = day_off_note(when)
            if day_off is not None:
                text += f" {day_off}"
                blocks.insert(1, section(f":information_source: {day_off}"))
            return Reply(text, blocks)
        case cmd.Digest():
            digest = build_digest(unit.session, unit.partnership, unit.now)
            blocks = build_digest_blocks(digest)[: MAX_MESSAGE_BLOCKS - 1]
            blocks.append(context_block(preview_note(unit.partnership.partnership_channel)))
            return Reply("Preview: " + digest_text(digest), blocks)
        case cmd.Setup():
            open_setup(unit, body=body, client=client, ack=ack)
            return None
        case cmd.Refer() | cmd.Referrals():
            return _referrals(parsed, unit, ack=ack, body=body, client=client)
        case cmd.CalendarLink():
            return Reply(*calendar_reply(unit))
        case cmd.Report():
            send_report(parsed, unit, ack=ack, context=context, client=client)
            return None
    assert_never(parsed)


def due_reply(unit: Unit, asked: cmd.Due) -> Reply:
    """`/csp due`: rendered once per plan snapshot, day and horizon (the blocks as
    dicts, so repeated answers skip building and serialising Block Kit objects)."""
    session, partnership, today = unit.session, unit.read_partnership, unit.today
    days, span = due_horizon(DueWords(asked.days, asked.months, asked.period), today)

    def build() -> tuple[str, tuple[dict[str, Any], ...]]:
        items = due_items(session, partnership, today, days)
        overdue = sum(1 for i in items if i.overdue)
        blocks = build_due_blocks(items, days=days, today=today, span=span)
        return (
            f"{overdue} overdue, {len(items) - overdue} due {span}.",
            tuple(b.to_dict() for b in blocks),
        )

    key = ("due_reply", today, days, span, reminder_policy(partnership))
    text, blocks = plan_memo(session, partnership, key, build)
    return Reply(text, blocks)


def resolve(unit: Unit, query: str, *, action: str, **extra: str) -> int | Reply:
    """The objective ``query`` means, or a reply offering choices / suggestions."""
    choices = unit.objective_choices()
    found = match_objective(query, choices)
    if found.single is not None:
        return found.single[0]
    if found.kind == "several":
        fits = pick_fits(found.objectives, action=action, **extra)
        return Reply(
            f"Several objectives match “{esc(query)}”; "
            + ("pick one." if fits else "type more of the name (the note is too long)."),
            build_pick_blocks(query, found.objectives, action=action, **extra),
        )
    return Reply(
        f"No objective matches “{esc(query)}”.",
        build_no_match_blocks(query, found.suggestions),
    )


def typed_progress(
    parsed: cmd.Progress, unit: Unit, client: WebClient, *, keys: Sequence[str] = ()
) -> Reply:
    """``/csp progress <objective> [status] [note]``; ``keys`` identify the request (see
    :mod:`handlers.repeats`): a repeat is answered from what the first one saved."""
    status = "done" if parsed.done else (parsed.rag or "")
    query, note = parsed.query, parsed.note
    if not status and not note:
        # "/csp progress dhr Panel booked": a note with no RAG change.
        choices = unit.objective_choices()
        split = split_objective(query, choices)
        if split is not None:
            query, note = split
            slip = cmd.misspelt_status(note)
            if slip is not None:
                first, _, rest = note.partition(" ")
                raise UsageError(
                    f"Did you mean *{slip}*? `{esc(first)}` would be saved as the start "
                    "of a note and the status would not change. To set it: "
                    f"`/csp progress {esc(query)} {slip} {esc(rest)}`.",
                    USAGE["progress"],
                )
        elif match_objective(query, choices).kind != "none":
            raise UsageError(
                "Say how it is going: after the objective add red, amber, green or done "
                "and/or a short note, like `/csp progress dhr Panel booked`, or type "
                "`/csp progress` alone to open the form.",
                USAGE["progress"],
            )
    query, number = action_number_of(query, unit.objective_choices())
    found = resolve(unit, query, action="progress", r=status, n=note)
    if isinstance(found, Reply):
        return found
    return progress_reply(
        unit, found, status=status, note=note, client=client, keys=keys, action_number=number
    )


def progress_reply(
    unit: Unit,
    objective_id: int,
    *,
    status: str,
    note: str,
    client: WebClient,
    keys: Sequence[str] = (),
    action_number: int | None = None,
) -> Reply:
    done = status == "done"
    rag = status if status in ("red", "amber", "green") else None
    cmd.check_note(note)
    was_done = already_done(unit, objective_id) if done else None
    if was_done is not None:  # a "done" typed again is told who marked it done, and when
        text = (
            f"{was_done} Nothing was changed. To add an update, log a note or a RAG "
            "status instead (see `/csp help progress`)."
        )
        return Reply(text, [section(f":information_source: {text}")])
    batched = (
        None
        if done or action_number is not None  # an action named: saved one at a time
        else batched_reply(unit, objective_id, rag=rag, note=note, keys=keys, client=client)
    )
    if batched is not None:  # saved with others typed at the same moment, and committed
        return Reply(*batched)
    again = repeated_answer(unit, keys, note=note, done=done, rag=rag)
    if again is not None:  # the same command again: the same answer, nothing new saved
        return Reply(*again)
    result = save_progress(
        unit,
        objective_id,
        rag=rag,
        done=done,
        note=note,
        keys=keys,
        keep_note=True,
        action_number=action_number,
    )
    done = done and result.not_closed is None  # an ongoing objective keeps the note, open
    unit.commit()  # end the write turn before building the reply
    summary = result.summary
    if not result.repeated:  # its channel post was queued with it
        wake_announcer(unit.ctx, client)
    return Reply(
        progress_confirmation_text(summary, done=done, result=result),
        build_progress_confirmation_blocks(summary, note=note, done=done, rag=rag, result=result),
    )


def handle_pick(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    """A "did you mean" button: finish what the command started."""
    unit = unit_of(context)
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
        objective_id = int(value["id"])
        action = str(value["a"])
        note = picked_note(value)
    except (ValueError, KeyError, TypeError, AttributeError):
        ack()
        respond(
            text="That button has expired. Please type the command again.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if action == "show":
        detail = objective_detail(unit.session, unit.partnership, objective_id, unit.today)
        reply = Reply(esc(detail.summary.title), build_objective_blocks(detail))
    elif action == "progress":
        reply = progress_reply(
            unit,
            objective_id,
            status=str(value.get("r", "")),
            note=note,
            client=client,
        )
    elif action == "owner":
        if not unit.me.is_admin:
            raise NotAllowed("Only partnership admins can assign owners.")
        mode = str(value.get("m", "add"))
        reply = owner_reply(
            unit,
            objective_id,
            [u for u in str(value.get("u", "")).split(",") if u],
            "set" if mode == "set" else "remove" if mode == "remove" else "add",
        )
    else:
        reply = Reply("That button is no longer supported. Please type the command again.")
    unit.commit()
    ack()
    respond(
        text=reply.text,
        blocks=[b if isinstance(b, dict) else b.to_dict() for b in reply.blocks],
        response_type="ephemeral",
        replace_original=True,
    )


def _referrals(
    parsed: cmd.Refer | cmd.Referrals,
    unit: Unit,
    *,
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
) -> Reply | None:
    """Hand `refer` / `referrals` to the referral handlers."""
    if isinstance(parsed, cmd.Refer):
        ack()  # first: the form must open within 3 s of the trigger anyway
        open_referral_form(client, str(body["trigger_id"]), unit)
        return None
    text, blocks = list_referrals(unit)
    return Reply(text, blocks or [section(esc(text))])
