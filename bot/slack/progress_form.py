"""The Log progress modal: the objective (or its actions), how it is going, the note, the date."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bot.ids import Ids
from bot.slack.blocks import MAX_SELECT_OPTIONS, clip, section
from bot.slack.progress import DONE_VALUE, NO_CHANGE_VALUE, NOTE_MAX
from bot.text.mrkdwn import esc


@dataclass(frozen=True)
class ProgressFormState:
    """What the progress form holds, to prefill it or keep what was typed."""

    objective_id: int | None = None
    rag: str | None = None  # red | amber | green | done
    note: str = ""
    as_of: dt.date | None = None
    evidence_url: str = ""
    objective_text: str = ""
    action_number: int | None = None  # which action, for an objective with several


def _action_blocks(
    several: Sequence[tuple[int, str]], state: ProgressFormState, meta: dict[str, Any]
) -> list[Block]:
    """The action of a prefilled objective: shown when known, else a menu of its actions."""
    if len(several) < 2:
        return []
    known = next((a for a in several if a[0] == state.action_number), None)
    if known is not None:
        meta["action_number"] = known[0]
        return [section(f"*Action*\n{known[0]}. {esc(clip(known[1], 500))}")]
    options = [
        Option(value=str(n), text=clip(f"{n}. {text}", 75))
        for n, text in several[:MAX_SELECT_OPTIONS]
    ]
    return [_menu(Ids.PROGRESS_ACTION, "Action", "Choose the action this update is about", options)]


def _menu(block_id: str, label: str, placeholder: str, options: list[Option]) -> InputBlock:
    """A required menu whose block and action share one id (as the submit handler reads)."""
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(action_id=block_id, placeholder=placeholder, options=options),
    )


def _rag_options() -> list[Option]:
    return [
        Option(value="red", text=":red_circle: Red: off track"),
        Option(value="amber", text=":large_orange_circle: Amber: at risk"),
        Option(value="green", text=":large_green_circle: Green: on track"),
        Option(value=DONE_VALUE, text=":white_check_mark: Done: completed"),
        Option(value=NO_CHANGE_VALUE, text="No change: just a note"),
    ]


def _menu_options(
    choices: Sequence[tuple[int, str]], actions: Mapping[int, Sequence[tuple[int, str]]]
) -> list[Option]:
    """One option per objective, or per action of an objective with several
    ("PREVENT · 2. Train staff", value "id:2")."""
    options: list[Option] = []
    for oid, title in choices:
        several = actions.get(oid, ())
        if len(several) < 2:
            options.append(Option(value=str(oid), text=clip(title, 75)))
            continue
        for number, text in several:
            label = f"{clip(title, 30)} · {number}. {text}"
            options.append(Option(value=f"{oid}:{number}", text=clip(label, 75)))
    return options


def build_progress_modal(
    choices: Sequence[tuple[int, str]],
    state: ProgressFormState = ProgressFormState(),
    *,
    private_metadata: Mapping[str, Any] | None = None,
    actions: Mapping[int, Sequence[tuple[int, str]]] | None = None,
) -> View:
    """The "Log progress" modal. With up to 100 choices the objective (or, for one with
    several actions, each action of it) is a menu; past that it is typed (matched
    loosely on submit, an action's number after it). A prefilled objective shows as
    text, its id carried in private_metadata, then a menu of its actions when it has
    several (``actions``: their numbers and texts by objective id)."""
    meta = dict(private_metadata or {})
    actions = actions or {}
    blocks: list[Block] = []
    chosen = next((c for c in choices if c[0] == state.objective_id), None)
    options = _menu_options(choices, actions)
    if chosen is not None:
        meta["objective_id"] = chosen[0]
        blocks.append(section(f"*Objective*\n{esc(chosen[1])}"))
        blocks.extend(_action_blocks(actions.get(chosen[0], ()), state, meta))
    elif len(options) <= MAX_SELECT_OPTIONS and options:
        blocks.append(_menu(Ids.PROGRESS_OBJECTIVE, "Objective", "Choose an objective", options))
    else:
        blocks.append(
            InputBlock(
                block_id=Ids.PROGRESS_OBJECTIVE,
                label="Objective",
                hint="Its name, the start of it, or initials such as dhr; for one with "
                "several actions, the action's number after it (prevent 2)",
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
