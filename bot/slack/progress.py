"""Progress in Slack: confirmations, the channel post, "did you mean" (the modal: progress_form)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.plan.models import ObjectiveSummary
from bot.plan.progress import ProgressResult
from bot.slack.blocks import button, clip, context, section
from bot.slack.plan_views import RAG_WORD, next_text, status_line
from bot.text.mrkdwn import esc
from bot.time.words import short_date

NOTE_MAX = 3000
DONE_VALUE = "done"
NO_CHANGE_VALUE = "none"  # the progress form's "No change": a note with no RAG


def named(summary: ObjectiveSummary, result: ProgressResult | None, *, bold: bool = True) -> str:
    """ "*PREVENT*", or "*PREVENT*, action 2. Train staff" when the update was logged
    against one of several actions (mrkdwn, escaped)."""
    title = f"*{esc(summary.title)}*" if bold else esc(summary.title)
    if result is not None and result.action_label:
        title += f", action {esc(clip(result.action_label, 150))}"
    return title


def done_text(summary: ObjectiveSummary, result: ProgressResult | None) -> str:
    """What ``done`` closed, in a sentence or two (mrkdwn, escaped)."""
    title = named(summary, result)
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


def status_now(summary: ObjectiveSummary, result: ProgressResult | None) -> str:
    """ "Status now: ..." of the objective; for an action of one with several, the
    action's own line first, then the objective's roll-up."""
    if result is None or result.action_summary is None or not result.action_label:
        return f"Status now: {status_line(summary)}"
    number = result.action_label.split(".", 1)[0]
    return (
        f"Action {esc(number)} now: {status_line(result.action_summary)}\n"
        f"The objective now: {status_line(summary)}"
    )


def progress_details_text(as_of: dt.date | None, evidence_url: str | None) -> str:
    """The line "As of 3 Nov 2026. Evidence: <link>" for what the update said, or ""."""
    parts: list[str] = []
    if as_of is not None:
        parts.append(f"As of {short_date(as_of, with_weekday=False)}.")
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
        text = f":white_check_mark: Progress {what} for {named(summary, result)}."
    if note:
        text += f"\n>{esc(clip(note, 500))}"
    details = progress_details_text(as_of, evidence_url)
    if details:
        text += f"\n{details}"
    if result is not None and result.not_closed:
        text += f"\n:information_source: Not marked done: {result.not_closed}"
    return [
        section(text),
        section(status_now(summary, result)),
        context(
            "Type `/csp show &lt;objective&gt;` to see its history, or `/csp due` for what is next."
        ),
    ]


def progress_confirmation_text(
    summary: ObjectiveSummary, *, done: bool, result: ProgressResult | None = None
) -> str:
    """The reply's fallback text (mrkdwn, so the title stays escaped; no bold)."""
    if done:
        return done_text(summary, result).replace("*", "")
    state = RAG_WORD.get(summary.rag, "updated")
    following = next_text(summary)
    title = named(summary, result, bold=False)
    said = f"Progress logged for {title}: {state}. {following[:1].upper()}{following[1:]}."
    if result is not None and result.not_closed:
        said += f" Not marked done: {result.not_closed}"
    return said


def progress_channel_item(
    summary: ObjectiveSummary,
    *,
    user_id: str,
    note: str,
    done: bool,
    rag: str | None,
    result: ProgressResult | None = None,
) -> tuple[str, str]:
    """One update as the channel shows it: the sentence with its note (mrkdwn, escaped)
    and the objective's status line."""
    if done:
        text = f"<@{user_id}> logged progress. {done_text(summary, result)}"
    else:
        what = f"rated it {RAG_WORD[rag]}" if rag in RAG_WORD and rag else "added a note"
        text = f"<@{user_id}> logged progress on {named(summary, result)} and {what}."
    if note:
        text += f"\n>{esc(clip(note, 300))}"
    return text, status_line(summary)


def build_progress_saved_modal(
    summary: ObjectiveSummary,
    *,
    done: bool,
    result: ProgressResult | None = None,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> View:
    head = (
        done_text(summary, result) if done else f"Your update on {named(summary, result)} is saved."
    )
    details = progress_details_text(as_of, evidence_url)
    if details:
        head += f"\n{details}"
    return View(
        type="modal",
        title="Progress saved",
        close="Close",
        blocks=[
            section(f":white_check_mark: {head}"),
            section(f"Status now: {status_line(summary)}"),
            context("Close this window. Your update is on the App Home tab and in `/csp show`."),
        ],
    )


BUTTON_VALUE_MAX = 2000  # Slack's limit on a button's value


def _dump(value: Mapping[str, object]) -> str:
    return json.dumps(value, separators=(",", ":"))


def pick_value(action: str, objective_id: int, **extra: str) -> str | None:
    """Button value for "did you mean": what to do with which objective, or None.

    A note too long for the value as it is travels compressed (``nz``); a note
    that does not fit even so cannot be carried, and the caller says so.
    """
    value = _dump({"a": action, "id": objective_id, **extra})
    if len(value) <= BUTTON_VALUE_MAX:
        return value
    note = extra.get("n", "")
    if not note:
        return None
    packed = base64.urlsafe_b64encode(zlib.compress(note.encode("utf-8"), 9)).decode("ascii")
    rest = {k: v for k, v in extra.items() if k != "n"}
    value = _dump({"a": action, "id": objective_id, **rest, "nz": packed})
    return value if len(value) <= BUTTON_VALUE_MAX else None


def picked_note(value: Mapping[str, Any]) -> str:
    """The note a "did you mean" button carries (ValueError if it is not one we wrote)."""
    packed = value.get("nz")
    if packed is None:
        return str(value.get("n", ""))
    try:
        inflate = zlib.decompressobj()
        raw = inflate.decompress(base64.urlsafe_b64decode(str(packed)), 4 * NOTE_MAX + 1)
    except zlib.error as exc:
        raise ValueError("not a note this bot packed") from exc
    if inflate.unconsumed_tail or len(raw) > 4 * NOTE_MAX:
        raise ValueError("the packed note is longer than any note")
    return raw.decode("utf-8")


def pick_fits(matches: Sequence[tuple[int, str]], *, action: str, **extra: str) -> bool:
    """Whether every "did you mean" button can carry the whole request."""
    return all(pick_value(action, oid, **extra) is not None for oid, _ in matches[:25])


def build_pick_blocks(
    query: str, matches: Sequence[tuple[int, str]], *, action: str, **extra: str
) -> list[Block]:
    """Several objectives fit ``query``: one button each (at most 25)."""
    if not pick_fits(matches, action=action, **extra):
        return build_pick_too_long_blocks(query, matches, note=extra.get("n", ""))
    buttons = [
        button(title, Ids.PICK_OBJECTIVE, pick_value(action, oid, **extra) or "")
        for oid, title in matches[:25]
    ]
    # Button action_ids must be unique within a block.
    for index, element in enumerate(buttons):
        element.action_id = f"{Ids.PICK_OBJECTIVE}:{index}"
    return [
        section(
            f"More than one objective matches “{esc(clip(query, 100))}”. Which one did you mean?"
        ),
        ActionsBlock(block_id=Ids.PICK_OBJECTIVE, elements=buttons),
        context("Or type more of the name."),
    ]


def build_pick_too_long_blocks(
    query: str, matches: Sequence[tuple[int, str]], *, note: str
) -> list[Block]:
    """Several objectives fit and the note is too long to ride on a choice button."""
    titles = "\n".join(f"• {esc(clip(title, 150))}" for _, title in matches[:25])
    return [
        section(
            f"More than one objective matches “{esc(clip(query, 100))}”:\n{titles}\n"
            f"Your note ({len(note):,} characters) is too long to carry through a choice "
            "button, so nothing was saved."
        ),
        context(
            esc(
                "Type the command again with more of the objective's name, so that it "
                "matches just one: /csp progress <name> <status> <note>. Or use "
                "/csp progress on its own for the form."
            )
        ),
    ]


def build_no_match_blocks(query: str, suggestions: Sequence[tuple[int, str]]) -> list[Block]:
    text = f"I couldn't find an objective matching “{esc(clip(query, 100))}”."
    if suggestions:
        text += " The closest are:\n" + "\n".join(f"• {esc(t)}" for _, t in suggestions)
    return [
        section(text),
        context("Try the start of its name or its initials, or type `/csp plan` to see them all."),
    ]
