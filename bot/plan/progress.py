"""Logging progress: the append-only entry, the RAG it sets and the dated item a done closes.

An entry can carry the key of the request that wrote it (unique): a request a person
repeats (a resubmitted view, a redelivered or retyped command) finds the entry with
:func:`repeated_progress` and is answered from it instead of writing a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan import readcache
from bot.plan.actions import numbered, roll_up, scope_of
from bot.plan.members import Actor
from bot.plan.models import ItemLike, ObjectiveSummary
from bot.plan.queries import entry_with_request_key
from bot.plan.reading import (
    action_done_days,
    get_objective,
    progress_facts,
    summarise,
    summary_of,
)
from bot.plan.schedule import DATED_KINDS, month_label, reminder_policy
from bot.plan.years import local_today
from bot.text.mrkdwn import esc, esc_code
from bot.time.words import day_month, long_date
from store.models import (
    Action,
    Objective,
    ObjectiveStatus,
    Partnership,
    ProgressEntry,
    Rag,
    ScheduleItem,
    ScheduleKind,
)


@dataclass(frozen=True)
class ProgressResult:
    """What logging progress did: the objective now, the dated item ``done`` closed
    (e.g. "March 2026 deadline (Maldon District Council)"), whether the whole
    objective is now done, and the dated items still open (with "overdue since")."""

    summary: ObjectiveSummary
    closed_label: str | None = None
    objective_done: bool = False
    still_open: tuple[str, ...] = ()
    repeated: bool = False  # an earlier identical request saved it; nothing was written now
    entry_id: int | None = None  # the entry written (or, for a repeat, found)
    not_closed: str | None = None  # "done" was asked but could not be: why (the note was kept)
    entry_done: bool | None = None  # for a repeat: whether the saved entry was a "done"
    # Which action it was logged against, when the objective has several: "2. Train staff",
    # and that action as it now stands (the objective's ``summary`` is their roll-up).
    action_label: str | None = None
    action_summary: ObjectiveSummary | None = None


def request_key(*parts: str) -> str:
    """The stored key of a request a person can repeat: a SHA-256 of its parts, so a
    note typed into a command is never kept a second time in the key."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def repeated_progress(
    session: Session, partnership: Partnership, keys: Sequence[str], now: dt.datetime
) -> ProgressResult | None:
    """What an earlier request with one of ``keys`` saved, with the objective as it
    stands now; None when no entry has any of them."""
    entry = entry_with_request_key(session, partnership.id, keys)
    if entry is None:
        return None
    objective = get_objective(session, partnership, entry.objective_id)
    today = local_today(partnership, now)
    summary = summary_of(session, partnership, objective, today, entry.created_at)
    return ProgressResult(
        summary=summary,
        objective_done=entry.done and objective.status == ObjectiveStatus.DONE,
        still_open=tuple(
            _open_label(item, today) for item in open_dated(objective) if item.due_on is not None
        ),
        repeated=True,
        entry_id=entry.id,
        entry_done=entry.done,
    )


def log_progress(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    rag: Rag | None,
    done: bool,
    note: str,
    now: dt.datetime,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> ObjectiveSummary:
    """Append a progress entry (never overwritten) and update the objective's status."""
    return log_progress_result(
        session,
        partnership,
        actor,
        objective_id,
        rag=rag,
        done=done,
        note=note,
        now=now,
        as_of=as_of,
        evidence_url=evidence_url,
    ).summary


def log_progress_result(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    rag: Rag | None,
    done: bool,
    note: str,
    now: dt.datetime,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
    item_id: int | None = None,
    request_key: str | None = None,
    keep_note: bool = False,
    action_number: int | None = None,
) -> ProgressResult:
    """:func:`log_progress`, saying what ``done`` closed. ``done`` on an ongoing
    objective with nothing dated to close is refused kindly (nothing is stored), or
    with ``keep_note`` and a note, the note is saved and ``not_closed`` says why.
    ``item_id`` (a reminder's Mark done) closes exactly that schedule item.
    ``request_key`` is stored with the entry (unique: a second entry with the same key
    fails the flush with an IntegrityError). The entry is logged against the action
    numbered ``action_number`` (the item's action, for ``item_id``; the only one, for an
    objective with one action); which one must be said when there are several."""
    objective = get_objective(session, partnership, objective_id)
    action = _action_meant(objective, action_number, item_id)
    if objective.plan_year != partnership.plan_year:
        raise UserError(
            f"{esc(objective.title)} belongs to the {objective.plan_year} plan, which is closed. "
            "Log progress against this year's plan: `/csp plan`."
        )
    note = note.strip()
    if not note and rag is None and not done:
        raise UserError(
            "A progress update needs a note, a RAG status or `done`. For example: "
            "`/csp progress dhr amber Panel booked for 3 March`."
        )
    today = local_today(partnership, now)
    refusal: tuple[str, str] | None = None
    meetings = objective.meetings if len(objective.actions) == 1 else []
    if (
        done
        and action.status == ObjectiveStatus.OPEN
        and not open_dated(action)
        and any(i.kind == ScheduleKind.ONGOING for i in action.schedule)
    ):
        refusal = (
            f"{esc(objective.title)} is ongoing, so there is nothing dated to mark done",
            "Log how it is going instead, with a RAG status or a note, e.g. `/csp progress "
            f"{esc_code(short_name(objective.title))} green Panel met and actions agreed`.",
        )
    if (
        done
        and action.status == ObjectiveStatus.OPEN
        and not open_dated(action)
        and meetings
        and not _continuing(action, [], meetings=False)
    ):
        refusal = (
            f"{esc(objective.title)} is carried on through its meetings, so there is nothing "
            "dated to mark done",
            "Log how the last meeting went instead, e.g. `/csp progress "
            f"{esc_code(short_name(objective.title))} green Budget approved at the March "
            "meeting`, and set the next meeting's date with `/csp meeting`.",
        )
    not_closed: str | None = None
    if refusal is not None:
        if not (keep_note and note):
            raise UserError(f"{refusal[0]} and I have not saved anything. {refusal[1]}")
        not_closed = f"{refusal[0]}; your note is saved and the objective stays open. {refusal[1]}"
        done = False
    # Every read happens before the first change: SQLite writers take turns from their
    # first flush to the end of the transaction, so that turn is only the INSERT of the
    # entry and the UPDATE of the objective (and a closed item), then the caller's commit.
    with session.no_autoflush:
        _ = (objective.owners, objective.schedule, objective.meetings)  # load them now
        facts = progress_facts(session, partnership, [objective.id])
        action_days = action_done_days(session, partnership, [objective]).get(action.id, ())
        stamp = readcache.next_stamp(session, partnership.id, now)
    entry = ProgressEntry(
        objective_id=objective.id,
        action_id=action.id,
        slack_user_id=actor.slack_user_id,
        author=actor.display_name or actor.slack_user_id,
        created_at=now,
        rag=rag,
        done=done,
        note=note,
        as_of=as_of,
        evidence_url=evidence_url,
        request_key=request_key,
    )
    session.add(entry)
    if rag is not None:
        action.rag = rag
    closed: str | None = None
    if done:
        closed = _mark_done(action, meetings, today, now, item_id=item_id)
    if rag is not None or done:
        action.updated_at = now
    roll_up(objective)
    # The fingerprint moves with the new entry's id whatever the stamp; the stamp keeps
    # Objective.updated_at meaning "last changed".
    objective.updated_at = stamp
    still_open = tuple(
        _open_label(item, today) for item in open_dated(action) if item.due_on is not None
    )
    done_days = facts.done_days.get(objective.id, ())
    if done:
        logged_on = now.astimezone(ZoneInfo(partnership.timezone)).date()
        done_days, action_days = (*done_days, logged_on), (*action_days, logged_on)
    policy = reminder_policy(partnership)
    summary = summarise(objective, today, now, done_days=done_days, policy=policy)
    action_summary = (
        summarise(scope_of(objective, action.id), today, now, done_days=action_days, policy=policy)
        if len(objective.actions) > 1
        else None
    )
    session.flush()
    return ProgressResult(
        summary=summary,
        closed_label=closed,
        objective_done=done and action.status == ObjectiveStatus.DONE,
        still_open=still_open,
        entry_id=entry.id,
        not_closed=not_closed,
        action_label=action_label(objective, action),
        action_summary=action_summary,
    )


def action_label(objective: Objective, action: Action) -> str | None:
    """ "2. Train staff" for an action of an objective with several; None with one."""
    if len(objective.actions) < 2:
        return None
    return f"{action.position}. {action.text}"


def _action_meant(objective: Objective, number: int | None, item_id: int | None) -> Action:
    """The action progress is for (see :func:`log_progress_result`); UserError when an
    objective with several actions is not told which, listing them."""
    if item_id is not None:
        for action in objective.actions:
            if any(item.id == item_id for item in action.schedule):
                return action
    if number is not None:
        found = numbered(objective, number)
        if found is not None:
            return found
    elif len(objective.actions) == 1:
        return objective.actions[0]
    raise UserError(which_action_message(objective))


def which_action_message(objective: Objective) -> str:
    """Asks which of an objective's actions is meant, listing them by number (or, for an
    objective with one, says to leave the number out)."""
    name = esc_code(short_name(objective.title))
    if len(objective.actions) < 2:
        return (
            f"{esc(objective.title)} has one action, so it needs no number: for example "
            f"`/csp progress {name} amber Training booked for March`. Nothing was saved."
        )
    listed = "\n".join(f"{a.position}. {esc(_shorten(a.text))}" for a in objective.actions)
    return (
        f"{esc(objective.title)} has {len(objective.actions)} actions; say which one the "
        f"update is for, by its number:\n{listed}\nFor example: `/csp progress {name} "
        f"{objective.actions[-1].position} amber Training booked for March`. Nothing was saved."
    )


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_name(title: str) -> str:
    """A short name for ``title`` that matching finds: its initials, else its first word."""
    letters = "".join(w[0] for w in title.split() if w[:1].isalpha() and w[0].isupper())
    return letters.lower() if len(letters) >= 2 else title.split()[0].lower()


def open_dated(scope: Objective | Action) -> list[ScheduleItem]:
    """The deadlines and milestones of an objective (all its actions) or of one action
    not yet done, soonest first."""
    return sorted(
        (
            i
            for i in scope.schedule
            if i.kind in DATED_KINDS and i.due_on is not None and i.done_at is None
        ),
        key=lambda i: i.due_on or dt.date.max,
    )


def _when_text(item: ItemLike) -> str:
    assert item.due_on is not None
    return month_label(item.due_on) if item.month_only else long_date(item.due_on)


def _closed_label(item: ItemLike) -> str:
    kind = "deadline" if item.kind == ScheduleKind.DEADLINE else "milestone"
    body = f" ({item.body})" if item.body else ""
    return f"{_when_text(item)} {kind}{body}"


def _open_label(item: ItemLike, today: dt.date) -> str:
    assert item.due_on is not None
    body = f", {item.body}" if item.body else ""
    late = f" (overdue since {day_month(item.due_on)})" if item.due_on < today else ""
    return f"{_when_text(item)}{body}{late}"


def _continuing(action: Action, linked: Sequence[object], *, meetings: bool = True) -> bool:
    """Whether the action carries on after its dated items are met: ongoing or
    recurring work, or (with ``meetings``) meetings ``linked`` to it."""
    if any(i.kind in (ScheduleKind.RECURRING, ScheduleKind.ONGOING) for i in action.schedule):
        return True
    return meetings and bool(linked)


def _mark_done(
    action: Action,
    linked: Sequence[object],
    today: dt.date,
    now: dt.datetime,
    *,
    item_id: int | None = None,
) -> str | None:
    """Close the schedule item ``item_id`` when given (a recurring one is met by the done
    entry itself, so nothing is closed), else the earliest open dated item due by a month
    from now; close the objective when nothing dated, recurring, ongoing or meeting-linked
    remains. Returns what was closed."""
    open_items = open_dated(action)
    target: ScheduleItem | None
    if item_id is not None:
        target = next((i for i in open_items if i.id == item_id), None)
    else:
        soon = [
            i
            for i in open_items
            if i.due_on is not None and i.due_on <= today + dt.timedelta(days=31)
        ]
        target = soon[0] if soon else (open_items[0] if open_items else None)
    if target is not None:
        target.done_at = now
    remaining = [i for i in open_items if i is not target]
    continuing = _continuing(action, linked)
    if not remaining and not continuing:
        action.status = ObjectiveStatus.DONE
        if action.rag is None:
            action.rag = Rag.GREEN
    return _closed_label(target) if target is not None else None
