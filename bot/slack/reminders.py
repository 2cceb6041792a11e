"""Reminder Block Kit: deadline, overdue and progress-check messages, their buttons and states.

Each builder takes a frozen read model and returns blocks; no I/O, no ORM objects. Data
written into mrkdwn or message text goes through :func:`bot.text.mrkdwn.esc`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Ids
from bot.slack.notice_text import clip, late_line, long_day, relative_due
from bot.text.mrkdwn import esc


@dataclass(frozen=True)
class ReminderView:
    kind: str  # "deadline" (before / on the day), "overdue" or "quiet"
    stage: str  # "d14", "d7", "wd1", "day", "overdue3", "quiet1"...
    objective_id: int
    title: str
    today: dt.date
    due_on: dt.date | None = None
    action_number: int | None = None  # the action it is about, for an objective with several
    due_label: str | None = None
    body: str | None = None
    owners: tuple[str, ...] = ()  # Slack user IDs or free-text owner names
    no_owner: bool = False  # no owner with a Slack account yet
    late: bool = False
    planned_for: dt.date | None = None  # the day it was meant to be sent
    last_progress_on: dt.date | None = None
    statutory_basis: str | None = None
    item_id: int | None = None  # the schedule item this reminder is about (for Mark done)


def _who(owner: str) -> str:
    return f"<@{owner}>" if owner[:1] in ("U", "W") and owner.isalnum() else esc(owner)


def reminder_text(view: ReminderView) -> str:
    """One line for notifications and clients that cannot show blocks."""
    title = esc(view.title)
    if view.kind == "quiet":
        return f"Progress check: nothing logged on {title} for a while."
    assert view.due_on is not None
    when = esc(view.due_label) if view.due_label else long_day(view.due_on)
    if view.kind == "overdue":
        return f"Overdue: {title} was due {when} ({relative_due(view.due_on, view.today)})."
    return f"Reminder: {title} is due {when} ({relative_due(view.due_on, view.today)})."


@dataclass(frozen=True)
class DoneTarget:
    """What a reminder's Mark done button closes: the objective, and the schedule item
    with the date it was due (None on buttons that do not name one)."""

    objective_id: int
    item_id: int | None = None
    due_on: dt.date | None = None


def done_value(objective_id: int, item_id: int | None, due_on: dt.date | None) -> str:
    """The Mark done button's value, e.g. "o=12;i=34;d=2026-12-03" (well under Slack's
    2,000 characters)."""
    parts = [f"o={objective_id}"]
    if item_id is not None:
        parts.append(f"i={item_id}")
    if due_on is not None:
        parts.append(f"d={due_on.isoformat()}")
    return ";".join(parts)


def parse_done_value(value: str) -> DoneTarget:
    """The inverse of :func:`done_value`; a bare number (older reminders) is the
    objective alone. Raises ValueError on anything else."""
    value = value.strip()
    if value.isdigit():
        return DoneTarget(int(value))
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, raw = part.partition("=")
        if not sep or key not in ("o", "i", "d") or key in fields:
            raise ValueError(f"unexpected part {part!r}")
        fields[key] = raw
    if "o" not in fields:
        raise ValueError("no objective")
    return DoneTarget(
        objective_id=int(fields["o"]),
        item_id=int(fields["i"]) if "i" in fields else None,
        due_on=dt.date.fromisoformat(fields["d"]) if "d" in fields else None,
    )


def _buttons(
    objective_id: int,
    *,
    done: bool,
    snooze: bool = True,
    done_target: str | None = None,
    action_number: int | None = None,
) -> ActionsBlock:
    value = str(objective_id)
    # Log progress opens the form on the reminder's own action ("12:2").
    log_value = value if action_number is None else f"{value}:{action_number}"
    elements = [
        ButtonElement(
            text="Log progress", action_id=Ids.PROGRESS_OPEN, value=log_value, style="primary"
        )
    ]
    if snooze:
        elements.append(
            ButtonElement(text="Snooze 1 week", action_id=Ids.REMINDER_SNOOZE, value=value)
        )
    if done:
        elements.append(
            ButtonElement(text="Mark done", action_id=Ids.REMINDER_DONE, value=done_target or value)
        )
    return ActionsBlock(block_id=f"reminder_actions_{objective_id}", elements=elements)


def _owner_line(view: ReminderView) -> str:
    if view.no_owner:
        names = ", ".join(esc(o) for o in view.owners)
        named = f" (the plan names {names})" if names else ""
        return (
            f":bust_in_silhouette: No owner in Slack yet{named}. An admin can assign one with "
            f"`{esc('/csp owner <objective> @person')}`."
        )
    return "Owner: " + ", ".join(_who(o) for o in view.owners)


def build_reminder_blocks(view: ReminderView) -> list[Block]:
    """A deadline, overdue or progress-check reminder with its buttons."""
    title = esc(view.title)
    if view.kind == "quiet":
        since = (
            f"since {long_day(view.last_progress_on)}"
            if view.last_progress_on
            else "since it started"
        )
        head = (
            f":memo: *Progress check: {title}*\nNothing has been logged {since}. "
            "A line on what is happening keeps the partnership's record current."
        )
    else:
        assert view.due_on is not None
        when = esc(view.due_label) if view.due_label else long_day(view.due_on)
        where = f" for {esc(view.body)}" if view.body else ""
        if view.kind == "overdue":
            head = (
                f":red_circle: *Overdue: {title}*\nDue {when}{where}, "
                f"{relative_due(view.due_on, view.today)}. Log progress or mark it done; "
                "this reminder repeats weekly until then."
            )
        else:
            icon = ":alarm_clock:" if view.stage in ("day", "wd1") else ":calendar:"
            head = (
                f"{icon} *{title}* is due {relative_due(view.due_on, view.today)} ({when}{where})."
            )
    blocks: list[Block] = [
        SectionBlock(block_id="reminder_head", text=MarkdownTextObject(text=clip(head)))
    ]
    context = [_owner_line(view)]
    if view.statutory_basis:
        context.append(f"Basis: {esc(view.statutory_basis)}")
    blocks.append(
        ContextBlock(
            block_id="reminder_context",
            elements=[MarkdownTextObject(text=clip(line, 2000)) for line in context],
        )
    )
    blocks.extend(late_line(view.late, view.planned_for))
    blocks.append(
        _buttons(
            view.objective_id,
            done=view.kind != "quiet",
            done_target=done_value(view.objective_id, view.item_id, view.due_on),
            action_number=view.action_number,
        )
    )
    return blocks


def build_resolved_blocks(
    original: Sequence[dict[str, Any]], state_line: str
) -> list[dict[str, Any]]:
    """The reminder as it was, without its buttons, plus a line saying what happened
    (``state_line`` is mrkdwn the caller wrote, its data already escaped)."""
    kept = [dict(b) for b in original if b.get("type") != "actions"]
    kept = [b for b in kept if b.get("block_id") != "reminder_state"][:49]
    kept.append(
        ContextBlock(
            block_id="reminder_state", elements=[MarkdownTextObject(text=clip(state_line, 2000))]
        ).to_dict()
    )
    return kept
