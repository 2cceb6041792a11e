"""Block Kit builders for the Slack app: pure functions from read models to blocks.

No I/O, no sessions, no ORM objects. Messages stay within 50 blocks and modals or
the Home tab within 100, however large the plan; section text stays under 3000
characters. Every reply says what happened and what to do next.
:func:`render_text` turns blocks back into readable text for `csp-bot shell`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.plan.models import DueItem, MeetingView, ObjectiveDetail, ObjectiveSummary
from bot.plan.progress import ProgressResult
from bot.plan.years import DEFAULT_ZONE, local_date, plan_year_label
from bot.text.commands import HELP, HelpLine
from bot.text.mrkdwn import esc

if TYPE_CHECKING:
    from bot.referrals.core import LeadHomeReferrals

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SELECT_OPTIONS = 100
PLAN_PAGE_SIZE = 20
NOTE_MAX = 3000

RAG_EMOJI = {
    "red": ":red_circle:",
    "amber": ":large_orange_circle:",
    "green": ":large_green_circle:",
    None: ":white_circle:",
}
RAG_WORD = {"red": "Red", "amber": "Amber", "green": "Green", None: "No RAG yet"}
DONE_VALUE = "done"
NO_CHANGE_VALUE = "none"  # the progress form's "No change": a note with no RAG


# --------------------------------------------------------------------- small pieces


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def fmt_date(day: dt.date | None) -> str:
    if day is None:
        return "no date"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}"


def fmt_time(at: dt.time | None) -> str:
    return at.strftime("%H:%M") if at else ""


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


def section(text: str, *, accessory: ButtonElement | None = None) -> SectionBlock:
    """A mrkdwn section, clipped to Slack's 3000 characters (text is not escaped)."""
    return _section(text, accessory=accessory)


def context(text: str) -> ContextBlock:
    """A small grey line of mrkdwn (text is not escaped)."""
    return _context(text)


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))


def _section(text: str, *, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=_md(text), accessory=accessory)


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_TEXT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_md(text)])


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(text, 75)),
        action_id=action_id,
        value=clip(value, 2000),
        style=style,
    )


def progress_button(objective_id: int, *, text: str = "Log progress") -> ButtonElement:
    return _button(text, Ids.PROGRESS_OPEN, str(objective_id), style="primary")


def chunk_lines(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join lines into texts of at most ``limit`` characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _fit(blocks: list[Block], limit: int, note: str) -> list[Block]:
    """Cut ``blocks`` to ``limit``, ending with a context block saying so."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], _context(note)]


# ---------------------------------------------------------------------------- help


def build_help_blocks(*, is_admin: bool, topic: str | None = None) -> list[Block]:
    lines: Sequence[HelpLine] = HELP
    if topic:
        lines = [h for h in HELP if h.command == topic] or HELP
    general = [h for h in lines if not h.admin_only]
    admin = [h for h in lines if h.admin_only]
    blocks: list[Block] = [_header("Community Safety Partnership bot")]
    if general:
        blocks.append(_section("\n".join(map(_help_entry, general))))
    if admin:
        title = "*For partnership admins*" if is_admin else "*For partnership admins* (not you)"
        blocks.append(_section(title + "\n" + "\n".join(map(_help_entry, admin))))
    blocks.append(
        _context(
            "Objectives can be named loosely: any case, the start of the name, initials "
            "(`dhr`, `fgm`, `cse`) or with small typos. Try `/csp due` to see what needs "
            "doing next."
        )
    )
    return blocks


def _help_entry(line: HelpLine) -> str:
    example = f" For example: `{esc(line.example)}`" if line.example else ""
    return f"`{esc(line.usage)}`\n      {esc(line.description)}{example}"


def help_text() -> str:
    return "Here are the /csp commands. Try `/csp due` to see what needs doing next."


# ---------------------------------------------------------------------------- plan


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
    blocks: list[Block] = [_header(f"Partnership plan{year}")]
    if not summaries:
        blocks.append(
            _section(
                "The plan has no objectives yet. An admin can load one with "
                "`csp-bot plan import FILE`."
            )
        )
        return blocks
    counts = rag_counts(summaries)
    blocks.append(_context(counts_text(counts) + f" · {len(summaries)} objectives"))
    for summary in shown:
        text = (
            f"*{esc(clip(summary.title, 200))}*\n{status_line(summary)}\n"
            f"Owner: {owners_text(summary)}"
        )
        accessory = progress_button(summary.id) if summary.status == "open" else None
        blocks.append(_section(text, accessory=accessory))
    if pages > 1:
        nxt = f" Type `/csp plan {page + 1}` for the next page." if page < pages else ""
        blocks.append(_context(f"Page {page} of {pages}.{nxt}"))
    blocks.append(
        _context(
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


# --------------------------------------------------------------------------- show


def build_objective_blocks(detail: ObjectiveDetail) -> list[Block]:
    s = detail.summary
    blocks: list[Block] = [_header(s.title)]
    blocks.append(_section(f"{status_line(s)}\nOwner: {owners_text(s)}"))
    if detail.action_text:
        blocks.append(_section("*Action*\n" + esc(detail.action_text)))
    if detail.statutory_basis:
        blocks.append(_context("Statutory basis: " + esc(detail.statutory_basis)))
    schedule = [
        f"• {'~' if line.done else ''}{esc(line.label)}{'~ (done)' if line.done else ''}"
        for line in detail.schedule
    ]
    if not schedule and s.timescale_text:
        schedule = [f"• {esc(s.timescale_text)}"]
    for chunk in chunk_lines(["*Schedule*", *(schedule or ["• nothing scheduled"])])[:5]:
        blocks.append(_section(chunk))
    if detail.recent_progress:
        lines = ["*Latest progress*"]
        for entry in detail.recent_progress:
            who = f"<@{entry.slack_user_id}>" if entry.slack_user_id else esc(entry.author)
            rag = "done" if entry.done else (entry.rag or "no RAG")
            note = esc(clip(entry.note, 500)) if entry.note else "_no note_"
            link = f" <{esc(entry.evidence_url)}|evidence>" if entry.evidence_url else ""
            as_of = (
                f", as of {entry.as_of.day} {entry.as_of.strftime('%b %Y')}" if entry.as_of else ""
            )
            day = fmt_date(local_date(entry.at, DEFAULT_ZONE))  # the partnership's default zone
            lines.append(f"• {day}, {who} ({rag}{as_of}): {note}{link}")
        for chunk in chunk_lines(lines)[:3]:
            blocks.append(_section(chunk))
    else:
        blocks.append(_section("*Latest progress*\nNo progress logged yet."))
    if s.status == "open":
        blocks.append(ActionsBlock(elements=[progress_button(s.id)]))
    blocks.append(_context("Press *Log progress* or type `/csp progress` to add an update."))
    return _fit(blocks, MAX_MESSAGE_BLOCKS, "Some details were cut to fit.")


# ---------------------------------------------------------------------------- due


def build_due_blocks(items: Sequence[DueItem], *, days: int, today: dt.date) -> list[Block]:
    overdue = [i for i in items if i.overdue]
    upcoming = [i for i in items if not i.overdue]
    blocks: list[Block] = [_header(f"Due in the next {days} days")]
    if not items:
        blocks.append(
            _section(
                f"Nothing is overdue and nothing is due in the next {days} days. "
                "Type `/csp due 90` to look further ahead."
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
        return f"• *{esc(clip(item.title, 150))}*: {esc(item.label)}{body}{when}, {owners}"

    budget = MAX_MESSAGE_BLOCKS - 4
    if overdue:
        chunks = chunk_lines([f":warning: *Overdue ({len(overdue)})*", *map(line, overdue)])
        blocks.extend(_section(c) for c in chunks[: budget // 2])
    if upcoming:
        chunks = chunk_lines([f":calendar: *Coming up ({len(upcoming)})*", *map(line, upcoming)])
        room = MAX_MESSAGE_BLOCKS - 2 - len(blocks)
        if len(chunks) > room:
            chunks = chunks[:room]
            blocks.extend(_section(c) for c in chunks)
            blocks.append(_context("More items than fit here; type a smaller number of days."))
        else:
            blocks.extend(_section(c) for c in chunks)
    blocks.append(
        _context(
            "Type `/csp progress &lt;objective&gt; green &lt;note&gt;` to log progress on one of "
            "these."
        )
    )
    return _fit(blocks, MAX_MESSAGE_BLOCKS, "More items than fit here.")


# ------------------------------------------------------------------------ meetings


def meeting_line(meeting: MeetingView) -> str:
    if meeting.meeting_date is None:
        when = f"{meeting.month.strftime('%B %Y')}, date to be set"
    else:
        when = fmt_date(meeting.meeting_date)
        if meeting.start_time:
            when += f" at {fmt_time(meeting.start_time)}"
    place = f", {esc(meeting.place)}" if meeting.place else ""
    papers = f" · papers due {fmt_date(meeting.papers_due)}" if meeting.papers_due else ""
    return f"• {when}{place}{papers}"


def build_meetings_blocks(meetings: Sequence[MeetingView], *, is_admin: bool) -> list[Block]:
    blocks: list[Block] = [_header("Upcoming meetings")]
    if not meetings:
        blocks.append(
            _section("No meetings are planned yet. Meetings come from the plan's timescales.")
        )
        return blocks
    by_body: dict[str, list[MeetingView]] = {}
    for meeting in sorted(meetings, key=lambda m: m.sort_date):
        by_body.setdefault(meeting.body, []).append(meeting)
    for body, items in by_body.items():
        for chunk in chunk_lines([f"*{esc(body)}*", *map(meeting_line, items)]):
            blocks.append(_section(chunk))
    hint = (
        "Set a date with `/csp meeting &lt;body&gt; &lt;date&gt; [time] [at &lt;place&gt;]`."
        if is_admin
        else "Dates still to be set are fixed by the partnership manager."
    )
    blocks.append(_context(hint))
    return _fit(blocks, MAX_MESSAGE_BLOCKS, "More meetings than fit here.")


def build_meeting_set_blocks(meeting: MeetingView) -> list[Block]:
    if meeting.moved_from:
        head = (
            f":white_check_mark: Moved the *{esc(meeting.body)}* meeting from "
            f"{esc(meeting.moved_from)} to:\n{meeting_line(meeting)}"
        )
    else:
        head = f":white_check_mark: Meeting set for *{esc(meeting.body)}*:\n{meeting_line(meeting)}"
    return [
        _section(head),
        _context("Members will be reminded before it. Type `/csp meetings` to see them all."),
    ]


# ------------------------------------------------------------------------ progress


def done_text(summary: ObjectiveSummary, result: ProgressResult | None) -> str:
    """What ``done`` closed, in a sentence or two (mrkdwn, escaped)."""
    title = f"*{esc(summary.title)}*"
    if result is None:
        return f"Marked {title} done."
    parts: list[str] = []
    if result.closed_label:
        parts.append(f"Marked the {esc(result.closed_label)} for {title} as met.")
    if result.objective_done:
        parts.append(
            f"Nothing else is dated, so {title} is now done."
            if result.closed_label
            else f"Marked {title} as done."
        )
    elif result.still_open:
        parts.append("Still open: " + ", ".join(esc(x) for x in result.still_open) + ".")
    if not parts:
        parts.append(f"Logged done for {title}.")
    return " ".join(parts)


def progress_details_text(as_of: dt.date | None, evidence_url: str | None) -> str:
    """The line "As of 3 Nov 2026. Evidence: <link>" for what the update said, or ""."""
    parts: list[str] = []
    if as_of is not None:
        parts.append(f"As of {as_of.day} {as_of.strftime('%b %Y')}.")
    if evidence_url:
        parts.append(f"Evidence: <{esc(evidence_url)}|{esc(clip(evidence_url, 80))}>")
    return " ".join(parts)


def build_progress_confirmation_blocks(
    summary: ObjectiveSummary,
    *,
    note: str,
    done: bool,
    rag: str | None,
    result: ProgressResult | None = None,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> list[Block]:
    if done:
        text = f":white_check_mark: {done_text(summary, result)}"
    else:
        what = f"logged as *{RAG_WORD[rag]}*" if rag in RAG_WORD and rag else "logged as a note"
        text = f":white_check_mark: Progress {what} for *{esc(summary.title)}*."
    if note:
        text += f"\n>{esc(clip(note, 500))}"
    details = progress_details_text(as_of, evidence_url)
    if details:
        text += f"\n{details}"
    return [
        _section(text),
        _section(f"Status now: {status_line(summary)}"),
        _context(
            "Type `/csp show &lt;objective&gt;` to see its history, or `/csp due` for what is next."
        ),
    ]


def progress_confirmation_text(
    summary: ObjectiveSummary, *, done: bool, result: ProgressResult | None = None
) -> str:
    if done:
        return mrkdwn_to_text(done_text(summary, result)).replace("*", "")
    state = RAG_WORD.get(summary.rag, "updated")
    following = next_text(summary)
    return f"Progress logged for {summary.title}: {state}. {following[:1].upper()}{following[1:]}."


def build_progress_channel_blocks(
    summary: ObjectiveSummary,
    *,
    user_id: str,
    note: str,
    done: bool,
    rag: str | None,
    result: ProgressResult | None = None,
) -> list[Block]:
    if done:
        text = f"<@{user_id}> logged progress. {done_text(summary, result)}"
    else:
        what = f"rated it {RAG_WORD[rag]}" if rag in RAG_WORD and rag else "added a note"
        text = f"<@{user_id}> logged progress on *{esc(summary.title)}* and {what}."
    if note:
        text += f"\n>{esc(clip(note, 300))}"
    return [_section(text), _context(status_line(summary))]


@dataclass(frozen=True)
class ProgressFormState:
    """What the progress form holds, to prefill it or keep what was typed."""

    objective_id: int | None = None
    rag: str | None = None  # red | amber | green | done
    note: str = ""
    as_of: dt.date | None = None
    evidence_url: str = ""
    objective_text: str = ""


def _rag_options() -> list[Option]:
    return [
        Option(value="red", text=":red_circle: Red: off track"),
        Option(value="amber", text=":large_orange_circle: Amber: at risk"),
        Option(value="green", text=":large_green_circle: Green: on track"),
        Option(value=DONE_VALUE, text=":white_check_mark: Done: completed"),
        Option(value=NO_CHANGE_VALUE, text="No change: just a note"),
    ]


def build_progress_modal(
    choices: Sequence[tuple[int, str]],
    state: ProgressFormState = ProgressFormState(),
    *,
    private_metadata: Mapping[str, Any] | None = None,
) -> View:
    """The "Log progress" modal. With up to 100 objectives the objective is a menu;
    past that it is typed (matched loosely on submit). A prefilled objective shows
    as text, its id carried in private_metadata."""
    meta = dict(private_metadata or {})
    blocks: list[Block] = []
    chosen = next((c for c in choices if c[0] == state.objective_id), None)
    if chosen is not None:
        meta["objective_id"] = chosen[0]
        blocks.append(_section(f"*Objective*\n{esc(chosen[1])}"))
    elif len(choices) <= MAX_SELECT_OPTIONS and choices:
        blocks.append(
            InputBlock(
                block_id=Ids.PROGRESS_OBJECTIVE,
                label="Objective",
                element=StaticSelectElement(
                    action_id=Ids.PROGRESS_OBJECTIVE,
                    placeholder="Choose an objective",
                    options=[Option(value=str(i), text=clip(t, 75)) for i, t in choices],
                ),
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=Ids.PROGRESS_OBJECTIVE,
                label="Objective",
                hint="Its name, the start of it, or initials such as dhr",
                element=PlainTextInputElement(
                    action_id=Ids.PROGRESS_OBJECTIVE,
                    initial_value=state.objective_text or None,
                    max_length=300,
                ),
            )
        )
    rag_options = _rag_options()
    initial = next((o for o in rag_options if o.value == state.rag), None)
    blocks.append(
        InputBlock(
            block_id=Ids.PROGRESS_RAG,
            label="How is it going? (optional)",
            optional=True,
            hint="Leave empty for no change: the update is saved as a note",
            element=StaticSelectElement(
                action_id=Ids.PROGRESS_RAG,
                placeholder="No change",
                options=rag_options,
                initial_option=initial,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=Ids.PROGRESS_NOTE,
            label="What has happened?",
            element=PlainTextInputElement(
                action_id=Ids.PROGRESS_NOTE,
                multiline=True,
                max_length=NOTE_MAX,
                initial_value=state.note[:NOTE_MAX] or None,
                placeholder="A sentence or two for the partnership",
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=Ids.PROGRESS_DATE,
            label="As of (optional)",
            optional=True,
            hint="Leave empty for today",
            element=DatePickerElement(
                action_id=Ids.PROGRESS_DATE,
                initial_date=state.as_of.isoformat() if state.as_of else None,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=Ids.PROGRESS_EVIDENCE,
            label="Evidence link (optional)",
            optional=True,
            element=UrlInputElement(
                action_id=Ids.PROGRESS_EVIDENCE,
                initial_value=state.evidence_url or None,
            ),
        )
    )
    return View(
        type="modal",
        callback_id=Ids.PROGRESS_MODAL,
        title="Log progress",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(meta)[:3000],
    )


def build_progress_saved_modal(
    summary: ObjectiveSummary,
    *,
    done: bool,
    result: ProgressResult | None = None,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> View:
    head = (
        done_text(summary, result) if done else f"Your update on *{esc(summary.title)}* is saved."
    )
    details = progress_details_text(as_of, evidence_url)
    if details:
        head += f"\n{details}"
    return View(
        type="modal",
        title="Progress saved",
        close="Close",
        blocks=[
            _section(f":white_check_mark: {head}"),
            _section(f"Status now: {status_line(summary)}"),
            _context("Close this window. Your update is on the App Home tab and in `/csp show`."),
        ],
    )


def build_message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that just says something (used for errors after a submit)."""
    view = View(
        type="modal",
        title=clip(title, 24),
        close="Close",
        blocks=[_section(esc(text) if "`" not in text else text)],
    )
    result: dict[str, Any] = view.to_dict()
    return result


# ----------------------------------------------------------------- did you mean


def pick_value(action: str, objective_id: int, **extra: str) -> str:
    """Button value for "did you mean": what to do with which objective."""
    value = json.dumps({"a": action, "id": objective_id, **extra}, separators=(",", ":"))
    if len(value) > 2000:  # the note was long: keep the start of it
        note = extra.get("n", "")
        extra = {**extra, "n": note[: max(0, len(note) - (len(value) - 2000) - 10)]}
        value = json.dumps({"a": action, "id": objective_id, **extra}, separators=(",", ":"))
    return value


def build_pick_blocks(
    query: str, matches: Sequence[tuple[int, str]], *, action: str, **extra: str
) -> list[Block]:
    """Several objectives fit ``query``: one button each (at most 25)."""
    buttons = [
        _button(title, Ids.PICK_OBJECTIVE, pick_value(action, oid, **extra))
        for oid, title in matches[:25]
    ]
    # Button action_ids must be unique within a block.
    for index, button in enumerate(buttons):
        button.action_id = f"{Ids.PICK_OBJECTIVE}:{index}"
    return [
        _section(
            f"More than one objective matches “{esc(clip(query, 100))}”. Which one did you mean?"
        ),
        ActionsBlock(block_id=Ids.PICK_OBJECTIVE, elements=buttons),
        _context("Or type more of the name."),
    ]


def build_no_match_blocks(query: str, suggestions: Sequence[tuple[int, str]]) -> list[Block]:
    text = f"I couldn't find an objective matching “{esc(clip(query, 100))}”."
    if suggestions:
        text += " The closest are:\n" + "\n".join(f"• {esc(t)}" for _, t in suggestions)
    return [
        _section(text),
        _context("Try the start of its name or its initials, or type `/csp plan` to see them all."),
    ]


# ------------------------------------------------------------------------- home


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


HOME_MINE_MAX = 30


def build_home_view(model: HomeModel) -> View:
    """The App Home dashboard, never more than 100 blocks however big the plan."""
    blocks: list[Block] = [
        _header("Community Safety Partnership"),
        _section(counts_text(rag_counts(model.summaries))),
        _context(f"{len(model.summaries)} objectives · updated {fmt_date(model.today)}"),
        DividerBlock(),
    ]
    if model.referrals is not None:  # leads only; counts and references, never contents
        from bot.slack.referrals import build_home_referral_blocks

        blocks += [*build_home_referral_blocks(model.referrals), DividerBlock()]
    overdue = [i for i in model.due if i.overdue]
    soon = [i for i in model.due if not i.overdue]

    def line(item: DueItem) -> str:
        when = "" if item.month_only and not item.overdue else f", {fmt_date(item.due_on)}"
        return f"• *{esc(clip(item.title, 120))}*: {esc(item.label)}{when}"

    for title, group, empty in (
        (":warning: Overdue", overdue, "Nothing is overdue."),
        (":calendar: Due in the next 14 days", soon, "Nothing is due in the next 14 days."),
    ):
        lines = [f"*{title}* ({len(group)})", *([line(i) for i in group[:40]] or [empty])]
        if len(group) > 40:
            lines.append(f"…and {len(group) - 40} more. Type `/csp due` for the full list.")
        blocks.extend(_section(c) for c in chunk_lines(lines)[:4])
    blocks.append(DividerBlock())
    mine = [s for s in model.summaries if model.user_id in s.owner_ids and s.status == "open"]
    blocks.append(_section(f"*Your objectives* ({len(mine)})"))
    if not mine:
        blocks.append(
            _context(
                "You don't own any objectives yet. An admin can add you with "
                "`/csp owner &lt;objective&gt; @you`."
            )
        )
    for summary in mine[:HOME_MINE_MAX]:
        blocks.append(
            _section(
                f"*{esc(clip(summary.title, 200))}*\n{status_line(summary)}",
                accessory=progress_button(summary.id),
            )
        )
    if len(mine) > HOME_MINE_MAX:
        blocks.append(
            _context(f"…and {len(mine) - HOME_MINE_MAX} more. Type `/csp plan` to see them all.")
        )
    blocks.append(DividerBlock())
    meeting_lines = ["*Next meetings*"] + (
        [f"*{esc(m.body)}* {meeting_line(m)[2:]}" for m in model.meetings[:10]]
        or ["No meetings planned."]
    )
    blocks.extend(_section(c) for c in chunk_lines(meeting_lines)[:2])
    blocks.append(
        _context("Type `/csp help` in any channel for commands; `/csp progress` logs an update.")
    )
    return View(type="home", blocks=_fit(blocks, MAX_VIEW_BLOCKS, "Some items were cut to fit."))


# -------------------------------------------------------------------- render_text

_LINK_MD = re.compile(r"<([^>|]+)\|([^>]+)>")
_BARE_MD = re.compile(r"<([^>|]+)>")


def mrkdwn_to_text(text: str) -> str:
    text = _LINK_MD.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_MD.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class ButtonRef:
    number: int
    text: str
    action_id: str
    value: str
    block_id: str | None


def _as_dicts(blocks: Sequence[Block | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return mrkdwn_to_text(str(obj.get("text", "")))
    return mrkdwn_to_text(str(obj or ""))


def buttons_in(blocks: Sequence[Block | Mapping[str, Any]]) -> list[ButtonRef]:
    """Every button in ``blocks``, numbered from 1 in reading order."""
    found: list[ButtonRef] = []
    for block in _as_dicts(blocks):
        elements = []
        if block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
            elements = [block["accessory"]]
        elif block.get("type") == "actions":
            elements = list(block.get("elements", []))
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    ButtonRef(
                        len(found) + 1,
                        _text_of(element.get("text")),
                        str(element.get("action_id", "")),
                        str(element.get("value", "")),
                        block.get("block_id"),
                    )
                )
    return found


def render_text(blocks: Sequence[Block | Mapping[str, Any]]) -> str:
    """Blocks as readable plain text; buttons shown as ``[n] label``."""
    out: list[str] = []
    number = 0
    for block in _as_dicts(blocks):
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            out.append(f"{title}\n{'=' * min(len(title), 60)}")
        elif kind == "section":
            parts = []
            if block.get("text"):
                parts.append(_text_of(block["text"]))
            for f in block.get("fields", []) or []:
                parts.append(_text_of(f))
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping) and accessory.get("type") == "button":
                number += 1
                parts.append(f"   [{number}] {_text_of(accessory.get('text'))}")
            out.append("\n".join(parts))
        elif kind == "context":
            out.append(
                "  " + " ".join(_text_of(e) for e in block.get("elements", []) if "text" in e)
            )
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    number += 1
                    labels.append(f"[{number}] {_text_of(element.get('text'))}")
            out.append("   " + "   ".join(labels))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            out.append(f"{_text_of(block.get('label'))}{optional}: ____")
        else:
            out.append(f"[{kind}]")
    return "\n".join(out)
