"""The shell's terminal: prompts and answers, and what Slack would show printed as text.

Replies, channel posts and App Home are printed with Block Kit as readable text and
buttons as numbered choices; :attr:`Screen.buttons` holds the buttons of the last
answer, numbered across everything it printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from bot.slack.text_render import ButtonRef, buttons_in, mrkdwn_to_text, render_text


class Screen:
    """Reads answers from ``inp`` and prints to ``out``; with ``prompting`` (a terminal)
    prompts are shown, otherwise form answers are echoed so a transcript reads well."""

    def __init__(self) -> None:
        self.out: IO[str] | None = None
        self.inp: IO[str] | None = None
        self.prompting = False
        # Each button with the view it sits in (None for a message).
        self.buttons: list[tuple[ButtonRef, dict[str, Any] | None]] = []

    def print(self, text: str = "") -> None:
        assert self.out is not None
        self.out.write(text + "\n")
        self.out.flush()

    def read(self, prompt: str) -> str | None:
        assert self.inp is not None and self.out is not None
        if self.prompting:
            self.out.write(prompt)
            self.out.flush()
        line = self.inp.readline()
        if not line:
            return None
        line = line.rstrip("\n")
        if not self.prompting and prompt.startswith("│"):
            self.out.write(f"{prompt}{line}\n")  # echo form answers in a transcript
        return line

    def show_blocks(self, text: str, blocks: Any, view: dict[str, Any] | None = None) -> None:
        """Print ``blocks`` (or ``text`` when there are none), numbering their buttons
        after the ones already shown."""
        if isinstance(blocks, list) and blocks:
            offset = len(self.buttons)
            rendered = render_text(blocks)
            refs = buttons_in(blocks)
            if offset:
                for ref in reversed(refs):
                    rendered = rendered.replace(f"[{ref.number}]", f"[{ref.number + offset}]")
            self.print(rendered)
            for ref in refs:
                self.buttons.append(
                    (
                        ButtonRef(
                            ref.number + offset, ref.text, ref.action_id, ref.value, ref.block_id
                        ),
                        view,
                    )
                )
        elif text:
            self.print(mrkdwn_to_text(text))

    def show_response(self, status: int, body: str) -> None:
        """Print the app's HTTP answer to a request as Slack would show it."""
        if status != 200:
            self.print(f"(Slack would show an error: HTTP {status})")
            return
        if not body.strip():
            return
        try:
            reply = json.loads(body)
        except ValueError:
            self.print(body)
            return
        if "response_action" in reply:
            self.print(f"(form: {reply['response_action']})")
            return
        self.print("— only you can see this —")
        self.show_blocks(str(reply.get("text", "")), reply.get("blocks"))


def where(channel: str, user_id: str) -> str:
    """Where a post to ``channel`` shows up, as seen by ``user_id``."""
    if channel in (user_id, "D" + user_id):
        return "a direct message to you"
    if channel[:1] in ("U", "W"):
        return f"DM to <@{channel}>"
    if channel[:1] == "D" and channel[1:2] in ("U", "W"):
        return f"DM to <@{channel[1:]}>"
    return f"posted in #{channel}"


def view_title(view: Mapping[str, Any]) -> str:
    title = view.get("title")
    return str(title.get("text", "Form")) if isinstance(title, Mapping) else "Form"
