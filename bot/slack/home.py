"""App Home: the dashboard of counts, what is due, your objectives and the next meetings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.plan.models import DueItem, MeetingView, ObjectiveSummary
from bot.referrals.models import LeadHomeReferrals
from bot.slack.blocks import (
    MAX_VIEW_BLOCKS,
    chunk_lines,
    clip,
    context,
    fit,
    fmt_date,
    header,
    section,
)
from bot.slack.meetings import meeting_line
from bot.slack.plan_views import counts_text, progress_button, rag_counts, status_line
from bot.slack.referral_home import build_home_referral_blocks
from bot.text.mrkdwn import esc
from bot.text.numbers import plural


@dataclass(frozen=True)
class HomeModel:
    user_id: str
    summaries: tuple[ObjectiveSummary, ...]
    due: tuple[DueItem, ...]  # overdue first, then due within 14 days
    meetings: tuple[MeetingView, ...]
    today: dt.date
    is_admin: bool = False
    # Safeguarding referral counts: set for safeguarding leads only (None for anyone else).
    referrals: LeadHomeReferrals | None = None
    # How the actions of each objective with several stand, by objective id
    # ("1 of 2 actions done; action 2 red": ``bot.plan.standing.action_standings``).
    standings: Mapping[int, str] = field(default_factory=dict)


HOME_MINE_MAX = 30


def build_home_view(model: HomeModel) -> View:
    """The App Home dashboard, never more than 100 blocks however big the plan."""
    blocks: list[Block] = [
        header("Community Safety Partnership"),
        section(counts_text(rag_counts(model.summaries))),
        context(f"{plural(len(model.summaries), 'objective')} · updated {fmt_date(model.today)}"),
        DividerBlock(),
    ]
    if model.referrals is not None:  # leads only; counts and references, never contents
        blocks += [*build_home_referral_blocks(model.referrals), DividerBlock()]
    overdue = [i for i in model.due if i.overdue]
    soon = [i for i in model.due if not i.overdue]

    def line(item: DueItem) -> str:
        when = "" if item.month_only and not item.overdue else f", {fmt_date(item.due_on)}"
        name = f"*{esc(clip(item.title, 120))}*"
        if item.action:
            name += f", action {esc(clip(item.action, 100))}"
        return f"• {name}: {esc(item.label)}{when}"

    for title, group, empty in (
        (":warning: Overdue", overdue, "Nothing is overdue."),
        (":calendar: Due in the next 14 days", soon, "Nothing is due in the next 14 days."),
    ):
        lines = [f"*{title}* ({len(group)})", *([line(i) for i in group[:40]] or [empty])]
        if len(group) > 40:
            lines.append(f"…and {len(group) - 40} more. Type `/csp due` for the full list.")
        blocks.extend(section(c) for c in chunk_lines(lines)[:4])
    blocks.append(DividerBlock())
    mine = [s for s in model.summaries if model.user_id in s.owner_ids and s.status == "open"]
    blocks.append(section(f"*Your objectives* ({len(mine)})"))
    if not mine:
        blocks.append(
            context(
                "You don't own any objectives yet. An admin can add you with "
                "`/csp owner &lt;objective&gt; @you`."
            )
        )
    for summary in mine[:HOME_MINE_MAX]:
        standing = model.standings.get(summary.id)
        stands = f" · {esc(standing)}" if standing else ""
        blocks.append(
            section(
                f"*{esc(clip(summary.title, 200))}*\n{status_line(summary)}{stands}",
                accessory=progress_button(summary.id),
            )
        )
    if len(mine) > HOME_MINE_MAX:
        blocks.append(
            context(f"…and {len(mine) - HOME_MINE_MAX} more. Type `/csp plan` to see them all.")
        )
    blocks.append(DividerBlock())
    meeting_lines = ["*Next meetings*"] + (
        [f"*{esc(m.body)}* {meeting_line(m)[2:]}" for m in model.meetings[:10]]
        or ["No meetings planned."]
    )
    blocks.extend(section(c) for c in chunk_lines(meeting_lines)[:2])
    blocks.append(
        context("Type `/csp help` in any channel for commands; `/csp progress` logs an update.")
    )
    return View(type="home", blocks=fit(blocks, MAX_VIEW_BLOCKS, "Some items were cut to fit."))
