"""Pure Block Kit builders for reminders, meeting notices and delivery-failure notes.

Each builder takes a frozen read model and returns blocks; no I/O, no ORM objects.
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

SECTION_LIMIT = 3000


@dataclass(frozen=True)
class ReminderView:
    kind: str  # "deadline" (before / on the day), "overdue" or "quiet"
    stage: str  # "d14", "d7", "wd1", "day", "overdue3", "quiet1"...
    objective_id: int
    title: str
    today: dt.date
    due_on: dt.date | None = None
    due_label: str | None = None
    body: str | None = None
    owners: tuple[str, ...] = ()  # Slack user IDs or free-text owner names
    no_owner: bool = False  # no owner with a Slack account yet
    late: bool = False
    planned_for: dt.date | None = None  # the day it was meant to be sent
    last_progress_on: dt.date | None = None
    statutory_basis: str | None = None
    item_id: int | None = None  # the schedule item this reminder is about (for Mark done)


@dataclass(frozen=True)
class MeetingNoticeView:
    stage: str  # "meeting_d7", "meeting_day"
    meeting_id: int
    body: str
    meeting_date: dt.date
    today: dt.date
    start_time: dt.time | None = None
    place: str | None = None
    papers_due: dt.date | None = None
    objective_id: int | None = None
    objective_title: str | None = None
    late: bool = False


@dataclass(frozen=True)
class SetDatePromptView:
    meeting_id: int
    body: str
    month: dt.date
    today: dt.date
    late: bool = False


@dataclass(frozen=True)
class DeliveryFailureView:
    reason: str
    target: str
    kind: str
    failed_at: dt.datetime


def _day(d: dt.date) -> str:
    return d.strftime("%a %-d %b %Y")


def _who(owner: str) -> str:
    return f"<@{owner}>" if owner[:1] in ("U", "W") and owner.isalnum() else owner


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relative_due(due: dt.date, today: dt.date) -> str:
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    if days == -1:
        return "yesterday"
    return f"{-days} days ago"


def reminder_text(view: ReminderView) -> str:
    """One line for notifications and clients that cannot show blocks."""
    if view.kind == "quiet":
        return f"Progress check: nothing logged on {view.title} for a while."
    assert view.due_on is not None
    when = view.due_label or _day(view.due_on)
    if view.kind == "overdue":
        return f"Overdue: {view.title} was due {when} ({relative_due(view.due_on, view.today)})."
    return f"Reminder: {view.title} is due {when} ({relative_due(view.due_on, view.today)})."


def _late_line(late: bool, planned_for: dt.date | None) -> list[Block]:
    if not late:
        return []
    when = f" (it was due to go out on {_day(planned_for)})" if planned_for else ""
    return [
        ContextBlock(
            elements=[MarkdownTextObject(text=f":hourglass: Sent late{when}; the bot was offline.")]
        )
    ]


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
    objective_id: int, *, done: bool, snooze: bool = True, done_target: str | None = None
) -> ActionsBlock:
    value = str(objective_id)
    elements = [
        ButtonElement(
            text="Log progress", action_id=Ids.PROGRESS_OPEN, value=value, style="primary"
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
        names = ", ".join(view.owners)
        named = f" (the plan names {names})" if names else ""
        return (
            f":bust_in_silhouette: No owner in Slack yet{named}. An admin can assign one with "
            "`/csp owner <objective> @person`."
        )
    return "Owner: " + ", ".join(_who(o) for o in view.owners)


def build_reminder_blocks(view: ReminderView) -> list[Block]:
    """A deadline, overdue or progress-check reminder with its buttons."""
    if view.kind == "quiet":
        since = (
            f"since {_day(view.last_progress_on)}" if view.last_progress_on else "since it started"
        )
        head = (
            f":memo: *Progress check: {view.title}*\nNothing has been logged {since}. "
            "A line on what is happening keeps the partnership's record current."
        )
    else:
        assert view.due_on is not None
        when = view.due_label or _day(view.due_on)
        where = f" for {view.body}" if view.body else ""
        if view.kind == "overdue":
            head = (
                f":red_circle: *Overdue: {view.title}*\nDue {when}{where}, "
                f"{relative_due(view.due_on, view.today)}. Log progress or mark it done; "
                "this reminder repeats weekly until then."
            )
        else:
            icon = ":alarm_clock:" if view.stage in ("day", "wd1") else ":calendar:"
            head = (
                f"{icon} *{view.title}* is due {relative_due(view.due_on, view.today)}"
                f" ({when}{where})."
            )
    blocks: list[Block] = [
        SectionBlock(block_id="reminder_head", text=MarkdownTextObject(text=_clip(head)))
    ]
    context = [_owner_line(view)]
    if view.statutory_basis:
        context.append(f"Basis: {view.statutory_basis}")
    blocks.append(
        ContextBlock(
            block_id="reminder_context",
            elements=[MarkdownTextObject(text=_clip(line, 2000)) for line in context],
        )
    )
    blocks.extend(_late_line(view.late, view.planned_for))
    blocks.append(
        _buttons(
            view.objective_id,
            done=view.kind != "quiet",
            done_target=done_value(view.objective_id, view.item_id, view.due_on),
        )
    )
    return blocks


def meeting_text(view: MeetingNoticeView) -> str:
    when = relative_due(view.meeting_date, view.today)
    return f"{view.body} meeting {when}: {_day(view.meeting_date)}."


def build_meeting_notice_blocks(view: MeetingNoticeView) -> list[Block]:
    at = f" at {view.start_time.strftime('%H:%M')}" if view.start_time else ""
    where = f", {view.place}" if view.place else ""
    icon = ":round_pushpin:" if view.stage == "meeting_day" else ":spiral_calendar_pad:"
    lines = [
        f"{icon} *{view.body} meeting {relative_due(view.meeting_date, view.today)}*",
        f"{_day(view.meeting_date)}{at}{where}",
    ]
    if view.papers_due is not None and view.papers_due >= view.today:
        lines.append(
            f"Papers due {_day(view.papers_due)} ({relative_due(view.papers_due, view.today)})."
        )
    if view.objective_title:
        lines.append(f"Part of: {view.objective_title}")
    blocks: list[Block] = [
        SectionBlock(block_id="meeting_head", text=MarkdownTextObject(text=_clip("\n".join(lines))))
    ]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Date, time or place wrong? An admin can change it with "
                    "`/csp meeting <body> <date> [time]`."
                )
            ]
        )
    )
    blocks.extend(_late_line(view.late, None))
    if view.objective_id is not None:
        blocks.append(
            ActionsBlock(
                block_id=f"meeting_actions_{view.meeting_id}",
                elements=[
                    ButtonElement(
                        text="Log progress",
                        action_id=Ids.PROGRESS_OPEN,
                        value=str(view.objective_id),
                    )
                ],
            )
        )
    return blocks


def set_date_text(view: SetDatePromptView) -> str:
    return f"Please set the date of the {view.body} meeting in {view.month.strftime('%B %Y')}."


def build_set_date_blocks(view: SetDatePromptView) -> list[Block]:
    month = view.month.strftime("%B %Y")
    example = view.month.replace(day=min(10, view.month.day + 9)).isoformat()
    text = (
        f":spiral_calendar_pad: *The {view.body} meeting in {month} has no date yet.*\n"
        f"Set it so members get their reminders: `/csp meeting {view.body} {example} 10:00`"
        " (the time is optional)."
    )
    blocks: list[Block] = [
        SectionBlock(block_id="set_date_head", text=MarkdownTextObject(text=_clip(text)))
    ]
    blocks.extend(_late_line(view.late, None))
    return blocks


_REASONS = {
    "channel_not_found": "the channel does not exist any more (or the bot cannot see it)",
    "not_in_channel": "the bot is not a member of the channel",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "account_inactive": "the Slack account is deactivated",
    "user_not_found": "the Slack user does not exist",
    "user_disabled": "the Slack user is disabled",
    "cannot_dm_bot": "the target is a bot, which cannot get direct messages",
    "invalid_auth": "the bot's token is not valid",
    "not_authed": "the bot's token is missing",
    "token_revoked": "the bot's token was revoked",
    "missing_scope": "the app is missing a permission (scope)",
}


def failure_text(view: DeliveryFailureView) -> str:
    why = _REASONS.get(view.reason, view.reason)
    return f"A {_kind_name(view.kind)} message to {_target(view.target)} could not be sent: {why}."


def _target(target: str) -> str:
    if target[:1] in ("C", "G"):
        return f"<#{target}>"
    if target[:1] in ("U", "W"):
        return f"<@{target}>"
    return target


_KIND_NAMES = {
    "referral_alert": "safeguarding referral alert",
    "referral_escalation": "safeguarding referral escalation",
    "referral_alert_dm": "safeguarding referral alert (direct message)",
    "referral_no_leads": "safeguarding referral (no leads set up)",
}


def _kind_name(kind: str) -> str:
    """The message kind in plain words ("safeguarding referral alert", "deadline")."""
    return _KIND_NAMES.get(kind) or kind.replace("_", " ")


def _referral_fix(reason: str) -> str:
    if reason in ("account_inactive", "user_not_found", "user_disabled", "cannot_dm_bot"):
        return (
            "Check the list of safeguarding leads: remove anyone who has left from "
            "CSP_SAFEGUARDING_LEADS, and give someone current the lead role with "
            "`/csp role @person lead`."
        )
    if reason == "not_in_channel":
        return (
            "Invite the bot to the safeguarding channel (`/invite @csp-bot`) so referral "
            "alerts reach the leads."
        )
    if reason in ("channel_not_found", "is_archived", "channel_is_archived"):
        return (
            "Set CSP_SAFEGUARDING_CHANNEL to a private channel the leads use, invite the bot "
            "to it, and restart the bot."
        )
    return (
        "Fix the cause so referral alerts reach the leads. Until then, check new referrals "
        "with `/csp referrals`."
    )


def build_delivery_failure_blocks(view: DeliveryFailureView) -> list[Block]:
    why = _REASONS.get(view.reason, f"Slack answered `{view.reason}`")
    if view.kind.startswith("referral"):
        fix = _referral_fix(view.reason)
    else:
        fix = {
            "not_in_channel": "Invite the bot to the channel (`/invite @csp-bot`).",
            "channel_not_found": "Check CSP_PARTNERSHIP_CHANNEL and that the bot is in it.",
            "is_archived": "Unarchive the channel or point CSP_PARTNERSHIP_CHANNEL at another one.",
            "account_inactive": "Give the objective a new owner with `/csp owner`.",
            "user_not_found": "Give the objective a new owner with `/csp owner`.",
        }.get(view.reason, "Fix the cause; new messages will be tried as usual.")
    text = (
        f":warning: *A {_kind_name(view.kind)} message to {_target(view.target)} "
        f"could not be sent*: {why}.\n{fix} I will not retry this one, and I tell admins once "
        "per cause."
    )
    return [SectionBlock(block_id="delivery_failed", text=MarkdownTextObject(text=_clip(text)))]


def build_resolved_blocks(
    original: Sequence[dict[str, Any]], state_line: str
) -> list[dict[str, Any]]:
    """The reminder as it was, without its buttons, plus a line saying what happened."""
    kept = [dict(b) for b in original if b.get("type") != "actions"]
    kept = [b for b in kept if b.get("block_id") != "reminder_state"][:49]
    kept.append(
        ContextBlock(
            block_id="reminder_state", elements=[MarkdownTextObject(text=_clip(state_line, 2000))]
        ).to_dict()
    )
    return kept
