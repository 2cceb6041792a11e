"""The plan in Slack: objective status lines, plan pages, one objective, `/csp due`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.ids import Ids
from bot.plan.models import DueItem, ObjectiveDetail, ObjectiveSummary
from bot.plan.years import DEFAULT_ZONE, local_date, plan_year_label
from bot.slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    button,
    chunk_lines,
    clip,
    context,
    fit,
    fmt_date,
    header,
    section,
)
from bot.text.mrkdwn import esc
from bot.text.numbers import plural
from bot.time.words import short_date

PLAN_PAGE_SIZE = 20

RAG_EMOJI = {
    "red": ":red_circle:",
    "amber": ":large_orange_circle:",
    "green": ":large_green_circle:",
    None: ":white_circle:",
}
RAG_WORD = {"red": "Red", "amber": "Amber", "green": "Green", None: "No RAG yet"}


def status_line(summary: ObjectiveSummary) -> str:
    """ ":large_orange_circle: Amber · next: 31 Mar 2027 (Annual report)"."""
    if summary.status == "done":
        return ":white_check_mark: Done"  # nothing is next for a finished objective
    if summary.status == "waived":
        return ":heavy_minus_sign: Waived"
    head = f"{RAG_EMOJI.get(summary.rag, RAG_EMOJI[None])} {RAG_WORD.get(summary.rag, 'RAG')}"
    return f"{head} · {next_text(summary)}"


def next_text(summary: ObjectiveSummary) -> str:
    if summary.overdue:
        since = fmt_date(summary.overdue_since) if summary.overdue_since else "a past date"
        return f":warning: overdue since {since}"
    if summary.next_date is not None:
        if summary.next_month_only and summary.next_label:
            return f"next: {esc(summary.next_label)}"
        label = f" ({esc(summary.next_label)})" if summary.next_label else ""
        return f"next: {fmt_date(summary.next_date)}{label}"
    if summary.needs_dating:
        return "needs a date (ask the partnership manager)"
    if summary.ongoing:
        return "ongoing"
    return "no date set"


def owners_text(summary: ObjectiveSummary) -> str:
    if not summary.owners:
        return "no owner yet"
    shown = [f"<@{o}>" if o in summary.owner_ids else esc(o) for o in summary.owners]
    return ", ".join(shown)


def progress_button(objective_id: int, *, text: str = "Log progress") -> ButtonElement:
    return button(text, Ids.PROGRESS_OPEN, str(objective_id), style="primary")


def plan_pages(count: int, page_size: int = PLAN_PAGE_SIZE) -> int:
    return max(1, -(-count // page_size))


def build_plan_blocks(
    summaries: Sequence[ObjectiveSummary],
    *,
    page: int = 1,
    plan_year: int | None = None,
    page_size: int = PLAN_PAGE_SIZE,
) -> list[Block]:
    """One page of the plan: an objective a section with its RAG, next date and a
    "Log progress" button. 20 objectives a page keeps well inside 50 blocks."""
    pages = plan_pages(len(summaries), page_size)
    page = min(max(page, 1), pages)
    shown = summaries[(page - 1) * page_size : page * page_size]
    year = f" {plan_year_label(plan_year)}" if plan_year else ""
    blocks: list[Block] = [header(f"Partnership plan{year}")]
    if not summaries:
        blocks.append(
            section(
                "The plan has no objectives yet. An admin can load one with "
                "`csp-bot plan import FILE`."
            )
        )
        return blocks
    counts = rag_counts(summaries)
    blocks.append(context(counts_text(counts) + f" · {plural(len(summaries), 'objective')}"))
    for summary in shown:
        text = (
            f"*{esc(clip(summary.title, 200))}*\n{status_line(summary)}\n"
            f"Owner: {owners_text(summary)}"
        )
        accessory = progress_button(summary.id) if summary.status == "open" else None
        blocks.append(section(text, accessory=accessory))
    if pages > 1:
        nxt = f" Type `/csp plan {page + 1}` for the next page." if page < pages else ""
        blocks.append(context(f"Page {page} of {pages}.{nxt}"))
    blocks.append(
        context(
            "Type `/csp show &lt;objective&gt;` for details, or press *Log progress* to update."
        )
    )
    return blocks


def rag_counts(summaries: Iterable[ObjectiveSummary]) -> dict[str, int]:
    counts = {"red": 0, "amber": 0, "green": 0, "none": 0, "done": 0, "overdue": 0}
    for s in summaries:
        if s.status != "open":
            counts["done"] += 1
        else:
            counts[s.rag if s.rag in ("red", "amber", "green") else "none"] += 1
        if s.overdue:
            counts["overdue"] += 1
    return counts


def counts_text(counts: Mapping[str, int]) -> str:
    return (
        f"{RAG_EMOJI['red']} {counts['red']} red · {RAG_EMOJI['amber']} {counts['amber']} "
        f"amber · {RAG_EMOJI['green']} {counts['green']} green · {RAG_EMOJI[None]} "
        f"{counts['none']} not rated · :white_check_mark: {counts['done']} done"
    )


def build_objective_blocks(detail: ObjectiveDetail) -> list[Block]:
    s = detail.summary
    blocks: list[Block] = [header(s.title)]
    blocks.append(section(f"{status_line(s)}\nOwner: {owners_text(s)}"))
    if detail.actions:
        lines = [f"*Actions ({len(detail.actions)})*"]
        for action in detail.actions:
            lines.append(
                f"*{action.number}.* {esc(clip(action.text, 300))}\n"
                f"      {status_line(action.summary)} · Owner: {owners_text(action.summary)}"
            )
        blocks.extend(section(chunk) for chunk in chunk_lines(lines)[:6])
    elif detail.action_text:
        blocks.append(section("*Action*\n" + esc(detail.action_text)))
    if detail.statutory_basis:
        blocks.append(context("Statutory basis: " + esc(detail.statutory_basis)))
    schedule = [
        f"• {'~' if line.done else ''}{esc(line.label)}{'~ (done)' if line.done else ''}"
        for line in detail.schedule
    ]
    if not schedule and s.timescale_text:
        schedule = [f"• {esc(s.timescale_text)}"]
    for chunk in chunk_lines(["*Schedule*", *(schedule or ["• nothing scheduled"])])[:5]:
        blocks.append(section(chunk))
    if detail.recent_progress:
        lines = ["*Latest progress*"]
        numbers = detail.recent_actions or (None,) * len(detail.recent_progress)
        for entry, number in zip(detail.recent_progress, numbers, strict=False):
            who = f"<@{entry.slack_user_id}>" if entry.slack_user_id else esc(entry.author)
            rag = "done" if entry.done else (entry.rag or "no RAG")
            note = esc(clip(entry.note, 500)) if entry.note else "_no note_"
            link = f" <{esc(entry.evidence_url)}|evidence>" if entry.evidence_url else ""
            as_of = f", as of {short_date(entry.as_of, with_weekday=False)}" if entry.as_of else ""
            day = fmt_date(local_date(entry.at, DEFAULT_ZONE))  # the partnership's default zone
            on = f" on action {number}" if number is not None else ""
            lines.append(f"• {day}, {who}{on} ({rag}{as_of}): {note}{link}")
        for chunk in chunk_lines(lines)[:3]:
            blocks.append(section(chunk))
    else:
        blocks.append(section("*Latest progress*\nNo progress logged yet."))
    if s.status == "open":
        blocks.append(ActionsBlock(elements=[progress_button(s.id)]))
    blocks.append(context("Press *Log progress* or type `/csp progress` to add an update."))
    return fit(blocks, MAX_MESSAGE_BLOCKS, "Some details were cut to fit.")


def build_due_blocks(
    items: Sequence[DueItem], *, days: int, today: dt.date, span: str | None = None
) -> list[Block]:
    """``span`` names the period ("this week (to Sun 6 Dec)"); by default, ``days``."""
    span = span or (f"in the next {days} days" if days != 1 else "in the next day")
    overdue = [i for i in items if i.overdue]
    upcoming = [i for i in items if not i.overdue]
    blocks: list[Block] = [header(f"Due {span}")]
    if not items:
        blocks.append(
            section(
                f"Nothing is overdue and nothing is due {span}. "
                "Type `/csp due 90` or `/csp due next month` to look further ahead."
            )
        )
        return blocks

    def line(item: DueItem) -> str:
        owners = ", ".join(f"<@{o}>" for o in item.owner_ids) or "no owner"
        body = f" ({esc(item.body)})" if item.body and item.body not in item.label else ""
        when = fmt_date(item.due_on)
        if item.month_only and not item.overdue:
            when = ""  # the label already says the month; no made-up day
        elif not item.overdue:
            left = (item.due_on - today).days
            when += " (today)" if left == 0 else f" (in {left} days)" if left > 1 else " (tomorrow)"
        when = f", {when}" if when else ""
        name = f"*{esc(clip(item.title, 150))}*"
        if item.action:
            name += f", action {esc(clip(item.action, 100))}"
        return f"• {name}: {esc(item.label)}{body}{when}, {owners}"

    budget = MAX_MESSAGE_BLOCKS - 4
    if overdue:
        chunks = chunk_lines([f":warning: *Overdue ({len(overdue)})*", *map(line, overdue)])
        blocks.extend(section(c) for c in chunks[: budget // 2])
    if upcoming:
        chunks = chunk_lines([f":calendar: *Coming up ({len(upcoming)})*", *map(line, upcoming)])
        room = MAX_MESSAGE_BLOCKS - 2 - len(blocks)
        if len(chunks) > room:
            chunks = chunks[:room]
            blocks.extend(section(c) for c in chunks)
            blocks.append(context("More items than fit here; type a smaller number of days."))
        else:
            blocks.extend(section(c) for c in chunks)
    blocks.append(
        context(
            "Type `/csp progress &lt;objective&gt; green &lt;note&gt;` to log progress on one of "
            "these."
        )
    )
    return fit(blocks, MAX_MESSAGE_BLOCKS, "More items than fit here.")
