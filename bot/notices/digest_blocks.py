"""The weekly digest as Block Kit: at most 50 blocks, each section under 3,000 characters."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.notices.digest_model import DUE_DAYS, MEETING_DAYS, Digest, ProgressLine
from bot.plan.models import DueItem, MeetingView
from bot.plan.years import local_date
from bot.text.mrkdwn import esc
from bot.text.numbers import plural
from bot.time.words import month_year, short_date

SECTION_LIMIT = 3000
MAX_BLOCKS = 50


def _day(d: dt.date) -> str:
    return short_date(d, with_year=False)


def _who(ids: tuple[str, ...]) -> str:
    return ", ".join(f"<@{u}>" for u in ids) if ids else "_no owner yet_"


def _capped(title: str, lines: list[str], more_hint: str) -> str:
    """A section's text: as many lines as fit in 3000 characters, then "and N more"."""
    text = f"*{title}*"
    for i, line in enumerate(lines):
        rest = len(lines) - i
        tail = f"\n…and {rest} more: {more_hint}"
        candidate = f"{text}\n{line}"
        need = len(candidate) + (len(tail) if rest > 1 else 0)
        if need > SECTION_LIMIT:
            return text + tail
        text = candidate
    return text


_RAG_ICON = {
    "red": ":red_circle:",
    "amber": ":large_orange_circle:",
    "green": ":large_green_circle:",
}


def _progress_line(p: ProgressLine, zone: str) -> str:
    who = f"<@{p.slack_user_id}>" if p.slack_user_id else esc(p.author)
    rag = f" {_RAG_ICON[p.rag]}" if p.rag in _RAG_ICON else ""
    done = " :white_check_mark: done" if p.done else ""
    note = p.note.replace("\n", " ")
    if len(note) > 200:
        note = note[:199] + "…"
    day = _day(local_date(p.at, zone))
    text = f": {esc(note)}" if note.strip() else ""
    action = f" action {p.action}" if p.action is not None else ""
    return f"• {day} {who} on *{esc(p.objective_title)}*{action}{rag}{done}{text}"


def _meeting_line(m: MeetingView) -> str:
    if m.meeting_date is None:
        return f"• {esc(m.body)}: {month_year(m.month)}, _date to be set by an admin_"
    at = f" {m.start_time.strftime('%H:%M')}" if m.start_time else ""
    where = f", {esc(m.place)}" if m.place else ""
    papers = f" (papers due {_day(m.papers_due)})" if m.papers_due else ""
    return f"• {_day(m.meeting_date)}{at}: {esc(m.body)}{where}{papers}"


def _overdue_when(d: DueItem) -> str:
    """ "due 31 March 2026" for a dated item, "due in March 2026" for a month-only one,
    with the body or rule when the label adds one."""
    when = f"due in {month_year(d.due_on)}" if d.month_only else f"due {short_date(d.due_on)}"
    extra = d.body or (d.label if d.kind == "recurring" else None)
    return f"{when} ({esc(extra)})" if extra else when


def _name(d: DueItem) -> str:
    """ "*PREVENT*", or "*PREVENT*, action 2. Train staff" for one of several actions."""
    name = f"*{esc(d.title)}*"
    return f"{name}, action {esc(d.action)}" if d.action else name


def _due_soon_line(d: DueItem) -> str:
    """A "due in the next 14 days" line. Something known only to its month (an undated
    meeting) shows its label ("December 2026 (date to be set)"), never a made-up day."""
    who = _who(d.owner_ids)
    if d.month_only:
        return f"• {_name(d)}: {esc(d.label)}; {who}"
    return f"• {_day(d.due_on)}: {_name(d)} ({esc(d.label)}); {who}"


def _standings(digest: Digest) -> list[Block]:
    """One line for each objective with several actions: how its actions stand."""
    if not digest.standings:
        return []
    lines = [f"• *{esc(title)}*: {esc(words)}" for title, words in digest.standings]
    title = ":clipboard: Objectives with several actions"
    return [
        SectionBlock(
            block_id="digest_actions",
            text=MarkdownTextObject(text=_capped(title, lines, "/csp plan")),
        )
    ]


def build_digest_blocks(digest: Digest) -> list[Block]:
    """The digest as at most 50 blocks, each section under 3,000 characters."""
    c = digest.rag_counts
    blocks: list[Block] = [
        HeaderBlock(text=f"Weekly digest: {digest.partnership_name}"[:150]),
        SectionBlock(
            block_id="digest_rag",
            text=MarkdownTextObject(
                text=(
                    f"*Plan at {_day(digest.today)}:* {plural(digest.total, 'objective')}. "
                    f"{_RAG_ICON['red']} {c.get('red', 0)} red  "
                    f"{_RAG_ICON['amber']} {c.get('amber', 0)} amber  "
                    f"{_RAG_ICON['green']} {c.get('green', 0)} green  "
                    f":white_circle: {c.get('none', 0)} not rated  "
                    f":white_check_mark: {c.get('done', 0)} done or waived"
                )
            ),
        ),
        *_standings(digest),
        DividerBlock(),
    ]
    overdue = [
        f"• {_name(d)}: {_overdue_when(d)}; {_who(d.owner_ids)}"
        + (
            f" (reminders snoozed until {_day(local_date(d.snoozed_until, digest.zone))})"
            if d.snoozed_until
            else ""
        )
        for d in digest.overdue
    ]
    blocks.append(
        SectionBlock(
            block_id="digest_overdue",
            text=MarkdownTextObject(
                text=_capped(":red_circle: Overdue", overdue, "/csp due")
                if overdue
                else "*:red_circle: Overdue*\nNothing overdue. :tada:"
            ),
        )
    )
    soon = [_due_soon_line(d) for d in digest.due_soon]
    blocks.append(
        SectionBlock(
            block_id="digest_due",
            text=MarkdownTextObject(
                text=_capped(f":calendar: Due in the next {DUE_DAYS} days", soon, "/csp due")
                if soon
                else f"*:calendar: Due in the next {DUE_DAYS} days*\nNothing dated."
            ),
        )
    )
    progress = [_progress_line(p, digest.zone) for p in digest.progress]
    blocks.append(
        SectionBlock(
            block_id="digest_progress",
            text=MarkdownTextObject(
                text=_capped(":memo: Progress logged in the last 7 days", progress, "/csp plan")
                if progress
                else "*:memo: Progress logged in the last 7 days*\nNone. Log some with "
                "`/csp progress dhr Panel booked for 3 March` (the objective, then a note)."
            ),
        )
    )
    meetings = [_meeting_line(m) for m in digest.meetings]
    blocks.append(
        SectionBlock(
            block_id="digest_meetings",
            text=MarkdownTextObject(
                text=_capped(
                    f":spiral_calendar_pad: Meetings in the next {MEETING_DAYS} days",
                    meetings,
                    "/csp meetings",
                )
                if meetings
                else f"*:spiral_calendar_pad: Meetings in the next {MEETING_DAYS} days*\nNone."
            ),
        )
    )
    if digest.referrals is not None:
        r = digest.referrals
        blocks.append(
            SectionBlock(
                block_id="digest_referrals",
                text=MarkdownTextObject(
                    text=(
                        "*:shield: Safeguarding referrals (counts only)*\n"
                        f"Opened this week: {r.opened}. Acknowledged: {r.acknowledged}. "
                        f"Awaiting acknowledgement past their deadline: {r.awaiting_past_deadline}."
                    )
                ),
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Details: `/csp due`, `/csp plan`, `/csp meetings`. "
                    "Log progress: `/csp progress`."
                )
            ]
        )
    )
    return blocks[:MAX_BLOCKS]


def digest_text(digest: Digest) -> str:
    return (
        f"Weekly digest: {len(digest.overdue)} overdue, {len(digest.due_soon)} due in the next "
        f"{DUE_DAYS} days, {plural(len(digest.progress), 'progress update')} this week."
    )


def preview_note(channel: str | None) -> str:
    """Under a `/csp digest` preview: where the digest really goes each week."""
    if channel:
        return f"Only you can see this preview; the digest goes to <#{channel}> each week."
    return (
        "Only you can see this preview. No partnership channel is set, so the weekly digest "
        "is not posted anywhere yet: set CSP_PARTNERSHIP_CHANNEL to the channel's ID (like "
        "C0123ABCD) and invite the bot there."
    )
