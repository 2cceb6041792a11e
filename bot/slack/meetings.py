"""Meetings in Slack: a meeting's line, `/csp meetings` and the `/csp meeting` reply."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.plan.models import MeetingView
from bot.slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    chunk_lines,
    context,
    fit,
    fmt_date,
    fmt_time,
    header,
    section,
)
from bot.text.mrkdwn import esc
from bot.time.words import month_year


def meeting_line(meeting: MeetingView) -> str:
    if meeting.meeting_date is None:
        when = f"{month_year(meeting.month)}, date to be set"
    else:
        when = fmt_date(meeting.meeting_date)
        if meeting.start_time:
            when += f" at {fmt_time(meeting.start_time)}"
    place = f", {esc(meeting.place)}" if meeting.place else ""
    papers = f" · papers due {fmt_date(meeting.papers_due)}" if meeting.papers_due else ""
    return f"• {when}{place}{papers}"


def build_meetings_blocks(meetings: Sequence[MeetingView], *, is_admin: bool) -> list[Block]:
    blocks: list[Block] = [header("Upcoming meetings")]
    if not meetings:
        blocks.append(
            section("No meetings are planned yet. Meetings come from the plan's timescales.")
        )
        return blocks
    by_body: dict[str, list[MeetingView]] = {}
    for meeting in sorted(meetings, key=lambda m: m.sort_date):
        by_body.setdefault(meeting.body, []).append(meeting)
    for body, items in by_body.items():
        for chunk in chunk_lines([f"*{esc(body)}*", *map(meeting_line, items)]):
            blocks.append(section(chunk))
    hint = (
        "Set a date with `/csp meeting &lt;body&gt; &lt;date&gt; [time] [at &lt;place&gt;]`."
        if is_admin
        else "Dates still to be set are fixed by the partnership manager."
    )
    blocks.append(context(hint))
    return fit(blocks, MAX_MESSAGE_BLOCKS, "More meetings than fit here.")


def build_meeting_set_blocks(meeting: MeetingView) -> list[Block]:
    if meeting.moved_from:
        head = (
            f":white_check_mark: Moved the *{esc(meeting.body)}* meeting from "
            f"{esc(meeting.moved_from)} to:\n{meeting_line(meeting)}"
        )
    else:
        head = f":white_check_mark: Meeting set for *{esc(meeting.body)}*:\n{meeting_line(meeting)}"
    return [
        section(head),
        context("Members will be reminded before it. Type `/csp meetings` to see them all."),
    ]
