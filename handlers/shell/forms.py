"""Modals filled in at the shell's prompt: each input asked for, typed values checked.

Slack fills dates, people and channels from pickers; in the shell they are typed
(YYYY-MM-DD or day first, user IDs, channel IDs) and checked here before the form is
submitted, then sent as Slack's pickers would send them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.slack.text_render import mrkdwn_to_text
from bot.text.dates import parse_date
from bot.text.matching import match_objective
from handlers.shell.screen import Screen

_USER_ID = re.compile(r"<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?")
_CALENDAR = re.compile(
    r"\b([Pp])ick (.+?) from the calendar(?: \(YYYY-MM-DD\))?", flags=re.IGNORECASE
)


def shell_wording(error: str) -> str:
    """A form error as the shell needs it: there is no calendar to pick from, so a
    date is typed (YYYY-MM-DD)."""

    def typed(match: re.Match[str]) -> str:
        what = "it" if match.group(2).lower() == "one" else match.group(2)
        return f"{'Type' if match.group(1) == 'P' else 'type'} {what} as YYYY-MM-DD"

    return _CALENDAR.sub(typed, error)


# What ask() returns when the person presses Enter on an optional field the app then
# required: go back to the choice above it (say "Consent to share") to change it.
GO_BACK: dict[str, Any] = {"type": "go_back"}
CHOICES = frozenset({"static_select", "radio_buttons", "checkboxes"})


def prefilled(block: dict[str, Any], answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """``block`` with ``answer`` (its state value) as the initial value, so going back
    through a form shows what was typed and Enter keeps it."""
    if not answer:
        return block
    element = dict(block["element"])
    for state_key, initial_key in (
        ("selected_option", "initial_option"),
        ("selected_options", "initial_options"),
        ("value", "initial_value"),
        ("selected_date", "initial_date"),
        ("selected_user", "initial_user"),
        ("selected_users", "initial_users"),
        ("selected_conversation", "initial_conversation"),
        ("selected_channel", "initial_channel"),
    ):
        if answer.get(state_key):
            element[initial_key] = answer[state_key]
    return {**block, "element": element}


def is_empty(answer: Mapping[str, dict[str, Any]]) -> bool:
    """Whether a state answer ({action_id: {"type": ..., <value>}}) left the field empty."""
    return not any(v for a in answer.values() for k, v in a.items() if k != "type")


# Inputs typed as text in the shell that Slack fills from a picker:
# element type -> (what to type, the state key, the initial-value key).
_TYPED: dict[str, tuple[str, str, str]] = {
    "datepicker": ("type it as YYYY-MM-DD", "selected_date", "initial_date"),
    "users_select": ("Slack user ID, e.g. U0123ABCD", "selected_user", "initial_user"),
    "multi_users_select": (
        "Slack user IDs, comma-separated, e.g. U0123ABCD",
        "selected_users",
        "initial_users",
    ),
    "channels_select": ("channel ID, e.g. C0123ABCD", "selected_channel", "initial_channel"),
    "conversations_select": (
        "channel ID, e.g. C0123ABCD",
        "selected_conversation",
        "initial_conversation",
    ),
}
_TYPED_HELP: dict[str, str] = {
    "datepicker": "Type the date as YYYY-MM-DD (e.g. {today}) or day first, like 17/03/2017.",
    "users_select": "Type the person's Slack user ID, e.g. U0123ABCD (in Slack you would "
    "pick them from a list).",
    "multi_users_select": "Type Slack user IDs separated by commas, e.g. U0123ABCD, U0456EFGH.",
    "channels_select": "Type the channel's ID, e.g. C0123ABCD.",
    "conversations_select": "Type the channel's ID, e.g. C0123ABCD.",
}
_CHANNEL_ID = re.compile(r"<?#?([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>?")


def _typed_value(kind: str, typed: str) -> str | list[str] | None:
    """What Slack's picker would have sent for ``typed``; None if it cannot be that."""
    if kind == "datepicker":
        # Slack's picker sends YYYY-MM-DD whatever the person's locale shows; in the
        # shell a day-first date (17/03/2017, 17 March 2017) is read as Slack would.
        day = parse_date(typed)
        return day.isoformat() if day is not None else None
    if kind == "users_select":
        found = _USER_ID.fullmatch(typed.upper())
        return found.group(1) if found else None
    if kind == "multi_users_select":
        ids = [_USER_ID.fullmatch(part.strip().upper()) for part in typed.split(",")]
        return [m.group(1) for m in ids if m] if all(ids) else None
    if kind in ("channels_select", "conversations_select"):
        found = _CHANNEL_ID.fullmatch(typed.upper())
        return found.group(1) if found else None
    return typed


class FormPrompter:
    """Asks for one modal input at a time on ``screen``; ``today`` gives the date hint."""

    def __init__(self, screen: Screen, today: Callable[[], str]) -> None:
        self.screen = screen
        self.today = today

    def ask(
        self, block: dict[str, Any], error: str | None = None, *, insist: bool = False
    ) -> dict[str, Any] | None:
        """One input's answer in Slack's state shape; None to abandon the form.

        ``insist``: an optional field was skipped and the app answered with ``error``
        (it wants a value after all, because of an earlier answer): the user types a
        value, presses Enter to go back and change the earlier answer (``GO_BACK``), or
        types `cancel`. After an error on a value that was typed, Enter still clears
        the field.
        """
        element = block["element"]
        kind = str(element.get("type"))
        label = (block.get("label") or {}).get("text", "")
        optional = bool(block.get("optional"))
        insist = insist and optional and error is not None
        hint = block.get("hint")
        if error is None and isinstance(hint, Mapping) and hint.get("text"):
            self.screen.print(f"│   ({mrkdwn_to_text(str(hint['text']))})")
        if error is not None:
            self.screen.print(f"│ ! {shell_wording(error)}")
        if insist:
            suffix = (
                " (type a value, Enter to go back and change an earlier answer, or `cancel` "
                "to abandon the form)"
            )
        elif optional and "(optional)" in label:
            suffix = " (Enter to skip)"
        elif optional and "required if" in label.lower():
            suffix = " (Enter to skip if it does not apply)"
        else:
            suffix = " (optional, Enter to skip)" if optional else ""
        if kind in ("static_select", "radio_buttons", "checkboxes"):
            return self._choose(block, kind, label + suffix, optional, error if insist else None)
        how, key, initial = _TYPED.get(kind, ("", "value", "initial_value"))
        if kind == "datepicker":
            how = f"type it as YYYY-MM-DD, e.g. {self.today()}"
        shown_initial = element.get(initial) or ""
        if isinstance(shown_initial, list):  # initial_users: typed as comma-separated IDs
            shown_initial = ", ".join(str(v) for v in shown_initial)
        default = f" [{shown_initial}]" if shown_initial else ""
        prompt = f"│ {label}{suffix}{f' ({how})' if how else ''}{default}: "
        while True:
            line = self.screen.read(prompt)
            if line is None:
                return None
            typed = line.strip()
            if insist and typed.lower() == "cancel":
                return None
            if not typed and shown_initial:
                typed = str(shown_initial)
            if not typed:
                if insist:
                    return GO_BACK
                if not optional:
                    return None
                return {"type": kind, key: [] if key.endswith("s") else None}
            value = _typed_value(kind, typed)
            if value is None:
                self.screen.print(f"│ {_TYPED_HELP[kind].format(today=self.today())}")
                continue
            return {"type": kind, key: value}

    def _choose(
        self, block: dict[str, Any], kind: str, label: str, optional: bool, error: str | None
    ) -> dict[str, Any] | None:
        """A menu, radio buttons or checkboxes: options numbered; type a number (or
        several, for checkboxes) or the option's text. With ``error`` (an optional
        field the app then required), Enter does not skip: `cancel` abandons the form."""
        element = block["element"]
        options: list[dict[str, Any]] = list(element.get("options", []))
        for group in element.get("option_groups", []) or []:
            options.extend(group.get("options", []))
        texts = [mrkdwn_to_text(o["text"]["text"]) for o in options]
        for number, text in enumerate(texts, 1):
            self.screen.print(f"│   {number}. {text}")
        many = kind == "checkboxes"
        initial = element.get("initial_options" if many else "initial_option")
        if initial:
            shown = initial if isinstance(initial, list) else [initial]
            hint = " [" + ", ".join(mrkdwn_to_text(o["text"]["text"]) for o in shown) + "]"
        else:
            hint = ""
        how = "numbers, comma-separated" if many else "number"
        while True:
            line = self.screen.read(f"│ {label}{hint} ({how}): ")
            if line is None:
                return None
            line = line.strip()
            if error is not None and line.lower() == "cancel":
                return None
            if not line:
                if initial:
                    key = "selected_options" if many else "selected_option"
                    return {"type": kind, key: initial}
                if error is not None:
                    self.screen.print(
                        f"│ ! {shell_wording(error)} Choose one, or type `cancel` to abandon "
                        "the form."
                    )
                    continue
                if optional:
                    if many:
                        return {"type": kind, "selected_options": []}
                    return {"type": kind, "selected_option": None}
                return None
            picked = [self._option(part, options, texts) for part in line.split(",")]
            if picked and all(p is not None for p in picked) and (many or len(picked) == 1):
                chosen = [p for p in picked if p is not None]
                if many:
                    return {"type": kind, "selected_options": chosen}
                return {"type": kind, "selected_option": chosen[0]}
            self.screen.print(
                f"│ Type a number from 1 to {len(options)}, or the option's words"
                + (" (several separated by commas)." if many else ".")
            )

    @staticmethod
    def _option(
        typed: str, options: list[dict[str, Any]], texts: list[str]
    ) -> dict[str, Any] | None:
        typed = typed.strip().lower()
        if typed.isdigit():
            index = int(typed)
            return options[index - 1] if 1 <= index <= len(options) else None
        if not typed:
            return None
        exact = [o for o, t in zip(options, texts, strict=True) if t.lower() == typed]
        if exact:
            return exact[0]
        starts = [
            o
            for o, t in zip(options, texts, strict=True)
            if t.lower().startswith(typed) or str(o.get("value", "")).lower() == typed
        ]
        if starts:
            return starts[0] if len(starts) == 1 else None
        # Initials and loose words, as /csp itself reads an objective ("dhr").
        found = match_objective(typed, [(i, t) for i, t in enumerate(texts)]).single
        return options[found[0]] if found is not None else None
