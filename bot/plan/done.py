"""A reminder's actions on an objective: Mark done (once per item), snooze and waive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan import queries, readcache
from bot.plan.actions import roll_up
from bot.plan.members import Actor
from bot.plan.models import ObjectiveSummary
from bot.plan.owners import check_owner_or_admin
from bot.plan.progress import log_progress_result, open_dated, short_name
from bot.plan.reading import get_objective, summary_of
from bot.plan.years import local_date, local_today
from bot.text.mrkdwn import esc, esc_code
from bot.time.words import day_month
from store.models import ObjectiveStatus, Partnership


def snooze(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    until: dt.datetime,
    *,
    now: dt.datetime,
) -> None:
    objective = get_objective(session, partnership, objective_id)
    check_owner_or_admin(objective, actor, "snooze its reminders")
    objective.snoozed_until = until
    readcache.touch(session, objective, now)
    session.flush()


def waive(
    session: Session, partnership: Partnership, actor: Actor, objective_id: int, now: dt.datetime
) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only partnership admins can waive an objective's reminders.")
    objective = get_objective(session, partnership, objective_id)
    for action in objective.actions:
        if action.status == ObjectiveStatus.OPEN:
            action.status = ObjectiveStatus.WAIVED
    roll_up(objective)
    readcache.touch(session, objective, now)
    session.flush()


@dataclass(frozen=True)
class DoneResult:
    """What a reminder's Mark done did: the objective now and what it closed, or (when
    the item was already closed) who closed it and on which local day."""

    summary: ObjectiveSummary
    closed_label: str | None = None
    already_done_by: str | None = None  # a Slack user ID, else the author's name
    already_done_on: dt.date | None = None

    @property
    def already_done(self) -> bool:
        return self.already_done_on is not None

    @property
    def already_text(self) -> str:
        """E.g. "already marked done by <@U1> on 3 Dec" (mrkdwn)."""
        assert self.already_done_on is not None
        by = self.already_done_by
        who = f" by <@{by}>" if by and by[:1] in ("U", "W") and by.isalnum() else ""
        if by and not who:
            who = f" by {esc(by)}"  # an author's name is data (mrkdwn escaped)
        day = self.already_done_on
        return f"already marked done{who} on {day_month(day)}"


def mark_done(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    now: dt.datetime,
    note: str = "Marked done.",
    item_id: int | None = None,
) -> ObjectiveSummary:
    """Mark done as `/csp progress <objective> done` does, or (with ``item_id``) close
    exactly that schedule item; see :func:`mark_done_result`."""
    return mark_done_result(
        session, partnership, actor, objective_id, now=now, note=note, item_id=item_id
    ).summary


def mark_done_result(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    now: dt.datetime,
    note: str = "Marked done.",
    item_id: int | None = None,
) -> DoneResult:
    """Mark an objective's item done. With ``item_id`` only that item is closed, and an
    item already closed is left alone: nothing is stored and the result says who closed
    it and when."""
    objective = get_objective(session, partnership, objective_id)
    check_owner_or_admin(objective, actor, "mark it done")
    if item_id is not None:
        item = next((i for i in objective.schedule if i.id == item_id), None)
        if item is None:
            raise UserError(
                f"That reminder's date is no longer in the plan for {esc(objective.title)}, so I "
                "have not closed anything. See what is open with `/csp show "
                f"{esc_code(short_name(objective.title))}` and close it with `/csp progress "
                f"{esc_code(short_name(objective.title))} done`."
            )
        if item.done_at is None and item in open_dated(objective):
            # Two clicks may both have read the item open: the store decides which one
            # closes it (compare-and-set), so a double click logs one "done" entry. The
            # loaded item is left as read; log_progress_result closes it as usual.
            session.flush()
            queries.close_item_if_open(session, item, now)
        if item.done_at is not None:
            by, on = _closed_by(session, partnership, objective.id, item.done_at)
            summary = summary_of(
                session, partnership, objective, local_today(partnership, now), None
            )
            return DoneResult(summary=summary, already_done_by=by, already_done_on=on)
    result = log_progress_result(
        session,
        partnership,
        actor,
        objective_id,
        rag=None,
        done=True,
        note=note,
        now=now,
        item_id=item_id,
    )
    return DoneResult(summary=result.summary, closed_label=result.closed_label)


def _closed_by(
    session: Session, partnership: Partnership, objective_id: int, done_at: dt.datetime
) -> tuple[str | None, dt.date]:
    """Who closed an item at ``done_at`` (the "done" entry logged with it) and the local
    day it happened."""
    entry = queries.done_entry_at_or_before(session, objective_id, done_at)
    who = (entry.slack_user_id or entry.author) if entry is not None else None
    return who, local_date(done_at, partnership.timezone)
