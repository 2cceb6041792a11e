"""`csp-bot shell`: the real Slack app with no Slack at all, driven from a terminal.

Reads ``/csp ...`` lines from a terminal or stdin as a chosen user, sends them to
the real Bolt app as signed requests (in-process), and prints what Slack would
show: replies, channel posts, Block Kit as readable text, buttons as numbered
choices, and modals as forms filled in at the prompt. The app's Web API client
talks to :class:`~handlers.shell.fake_slack.LocalSlack` on 127.0.0.1 instead of Slack.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.slack.text_render import ButtonRef, buttons_in, render_text
from handlers.announce import announcer_of
from handlers.app import build_app
from handlers.shell import slack_requests
from handlers.shell.fake_slack import LocalSlack
from handlers.shell.files import save_files
from handlers.shell.forms import CHOICES, GO_BACK, FormPrompter, is_empty, prefilled, shell_wording
from handlers.shell.screen import Screen, view_title, where
from handlers.uow import unit_of

SHELL_HELP = """\
Type a Slack command as you would in Slack, e.g. `/csp help`, `/csp due`,
`/csp progress dhr amber Panel booked`. Type a person as <@U0123ABCD> (their
Slack user ID): Slack turns a name picked from its list into that.
  <number>   press the button with that number in the last answer
  home       open the App Home tab
  help       this text        quit   leave the shell
In a window (a modal) with buttons, type a button's number, or press Enter to go
on (to its form, or to close it). In a form, press Enter to skip an optional
field; dates are typed as YYYY-MM-DD or day first (17/03/2017) and people as Slack
user IDs."""

SHELL_TOKEN = "xoxb-local-shell"  # noqa: S105 (not a secret: the local Slack ignores it)
_BARE_MENTION = re.compile(r"(?<![<\w])@[A-Za-z]")
_LEAVE_WORDS = frozenset({"back", "close", "done", "leave"})
MENTION_NOTE = (
    "Note: in the shell, type a person as <@U0123ABCD> (their Slack user ID). In Slack "
    "you would pick @name from a list and Slack turns it into that."
)


class Shell:
    """Drive the app from text: ``Shell(ctx, user_id="U1").run(stdin, stdout)``."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        user_id: str,
        channel_id: str | None = None,
        app_factory: Callable[..., App] = build_app,
        notices: Sequence[str] = (),
        warnings: Sequence[str] = (),
        local_admin: bool = False,
        files_dir: Path | None = None,
    ) -> None:
        self.ctx = ctx
        self.files_dir = files_dir or Path.cwd()  # where files sent to the user are written
        self.notices = tuple(notices)  # safeguarding gaps, shown at the top of the session
        self.warnings = tuple(warnings)  # other start-up warnings, shown above them
        self.local_admin = local_admin
        self.user_id = user_id
        self.channel_id = channel_id or ctx.settings.partnership_channel or "CSHELL"
        self.recorder = LocalSlack().start()
        self._seen = 0  # calls to the local Slack already shown
        self.secret = secrets.token_hex(16)
        client = WebClient(base_url=self.recorder.base_url, token=SHELL_TOKEN)
        self.app = app_factory(
            ctx, client=client, process_before_response=True, signing_secret=self.secret
        )
        if local_admin:
            self.app.use(self._as_local_admin)
        self.screen = Screen()
        self.forms = FormPrompter(self.screen, self._today)
        self._triggers = itertools.count(1)
        self._open_views: list[str] = []  # ids of the modals on screen, innermost last
        self._redrawn: dict[str, dict[str, Any]] = {}  # views.update of an open modal
        self._mention_noted = False

    def _as_local_admin(self, context: BoltContext, next: Callable[[], None]) -> None:
        """Let the shell's own user act as an admin in every request. `csp-bot shell`
        also stores that role (handlers.cli.slack), so the `csp-bot` commands it
        suggests accept the same user."""
        unit = unit_of(context)
        actor = unit.actor
        if actor is not None and actor.slack_user_id == self.user_id and not actor.is_admin:
            unit.override_actor(replace(actor, bootstrap_admin=True))
        next()

    # ------------------------------------------------------------------ terminal
    @property
    def inp(self) -> IO[str] | None:
        return self.screen.inp

    @inp.setter
    def inp(self, value: IO[str] | None) -> None:
        self.screen.inp = value

    @property
    def out(self) -> IO[str] | None:
        return self.screen.out

    @out.setter
    def out(self, value: IO[str] | None) -> None:
        self.screen.out = value

    @property
    def prompting(self) -> bool:
        return self.screen.prompting

    @prompting.setter
    def prompting(self, value: bool) -> None:
        self.screen.prompting = value

    @property
    def buttons(self) -> list[tuple[ButtonRef, dict[str, Any] | None]]:
        """The buttons of the last answer, each with the view it sits in (None for a
        message)."""
        return self.screen.buttons

    @buttons.setter
    def buttons(self, value: list[tuple[ButtonRef, dict[str, Any] | None]]) -> None:
        self.screen.buttons = value

    # ------------------------------------------------------------------ plumbing
    def _dispatch(self, body: str, content_type: str) -> tuple[int, str]:
        return slack_requests.dispatch(self.app, self.secret, body, content_type)

    def _form(self, fields: Mapping[str, str]) -> tuple[int, str]:
        return self._dispatch(urlencode(fields), "application/x-www-form-urlencoded")

    def _trigger(self) -> str:
        return f"shell.{next(self._triggers)}"

    def _today(self) -> str:
        return f"{self.ctx.clock.now().date():%Y-%m-%d}"

    # --------------------------------------------------------------- interactions
    def command(self, text: str) -> None:
        if not self._mention_noted and _BARE_MENTION.search(text):
            self._mention_noted = True
            self.screen.print(MENTION_NOTE)
        command, _, rest = text.strip().partition(" ")
        status, body = self._form(
            slack_requests.slash_command(
                command,
                rest.strip(),
                user_id=self.user_id,
                channel_id=self.channel_id,
                response_url=self.recorder.response_url(),
                trigger_id=self._trigger(),
            )
        )
        self.buttons = []
        self.screen.show_response(status, body)
        self._show_recorded()

    def home(self) -> None:
        event = slack_requests.home_opened(self.user_id, f"EvSHELL{next(self._triggers)}")
        self.buttons = []
        self._dispatch(json.dumps(event), "application/json")
        self._show_recorded()

    def press(self, number: int) -> None:
        found = [b for b in self.buttons if b[0].number == number]
        if not found:
            self.screen.print(
                f"There is no button {number}. Buttons in the last answer: "
                f"{', '.join(str(b.number) for b, _ in self.buttons) or 'none'}."
            )
            return
        button, view = found[0]
        self.buttons = []
        self._press(button, view)

    def _press(self, button: ButtonRef, view: Mapping[str, Any] | None) -> None:
        """Send the click on ``button`` (in ``view``, or in a message) and show what follows."""
        payload = slack_requests.click(
            button,
            view,
            user_id=self.user_id,
            channel_id=self.channel_id,
            trigger_id=self._trigger(),
            response_url=self.recorder.response_url() if view is None else "",
        )
        status, body = self._form({"payload": json.dumps(payload)})
        self.screen.show_response(status, body)
        self._show_recorded()

    def _submit(self, view: dict[str, Any], values: dict[str, Any]) -> tuple[int, str]:
        payload = slack_requests.submission(
            view, values, user_id=self.user_id, trigger_id=self._trigger()
        )
        return self._form({"payload": json.dumps(payload)})

    # ------------------------------------------------------------------- output
    def _show_recorded(self) -> None:
        """Show what the app sent Slack since the last look (what failed, Slack would
        not have shown). Channel updates the announcer is posting are waited for first, so
        they show with the command that caused them."""
        announcer = announcer_of(self.ctx)
        if announcer is not None:
            announcer.wait_idle(timeout=5.0)
        calls = self.recorder.calls[self._seen :]
        self._seen += len(calls)
        for call in calls:
            if not call.ok:
                continue
            args, answer = call.args, call.answer or {}
            if call.method in ("response_url", "chat.postEphemeral"):
                self.screen.print("— only you can see this —")
                self.screen.show_blocks(str(args.get("text", "")), args.get("blocks"))
            elif call.method == "chat.postMessage":
                self.screen.print(f"— {self._where(str(args.get('channel', '')))} —")
                self.screen.show_blocks(str(args.get("text", "")), args.get("blocks"))
            elif call.method == "files.completeUploadExternal":
                save_files(
                    self.screen,
                    self.recorder.files,
                    self.files_dir,
                    self._where(str(args.get("channel_id") or "")),
                    answer.get("files") or [],
                )
            elif call.method == "views.publish":
                self.screen.print("— App Home —")
                home = {"id": "VHOME", "type": "home"}
                self.screen.show_blocks("", (args.get("view") or {}).get("blocks"), view=home)
            elif call.method in ("views.open", "views.push"):
                self.fill_modal(dict(answer.get("view") or {}))
            elif call.method == "views.update":
                view = dict(answer.get("view") or {})
                if str(view.get("id", "")) in self._open_views:
                    self._redrawn[str(view["id"])] = view  # the open modal shows it next
                else:
                    self.screen.print("— the open window now shows —")
                    self.screen.show_blocks("", view.get("blocks"))

    def _where(self, channel: str) -> str:
        return where(channel, self.user_id)

    # ------------------------------------------------------------------- modals
    def fill_modal(self, view: dict[str, Any]) -> None:
        """Show a modal: its buttons as numbered choices first, then its inputs as a form."""
        view_id = str(view.get("id", ""))
        if self._open_views:  # pushed over another window: say which, as Slack does
            view = {**view, "root_view_id": self._open_views[0]}
            view["previous_view_id"] = self._open_views[-1]
        self._open_views.append(view_id)
        try:
            self._modal(view)
        finally:
            self._open_views.pop()
            self._redrawn.pop(view_id, None)

    def _modal(self, view: dict[str, Any]) -> None:
        while True:
            blocks: list[dict[str, Any]] = list(view.get("blocks", []))
            inputs = [b for b in blocks if b.get("type") == "input"]
            shown = [b for b in blocks if b.get("type") != "input"]
            refs = buttons_in(shown)
            how = " (press Enter on a required field with nothing to cancel)" if inputs else ""
            self.screen.print(f"┌ {view_title(view)}{how}")
            if shown:
                self.screen.print("│ " + render_text(shown).replace("\n", "\n│ "))
            if refs:
                redrawn, go_on = self._modal_buttons(view, refs, has_form=bool(inputs))
                if redrawn is not None:
                    view = redrawn
                    continue
                if not go_on:
                    self.screen.print("└ Closed; nothing was saved." if inputs else "└ Closed.")
                    return
            elif not inputs and not view.get("submit"):
                self.screen.print("└ Closed.")  # nothing to press or fill in: read, then closed
                return
            following = self._fill_form(view, inputs)
            if following is None:
                return
            view = following

    def _modal_buttons(
        self, view: dict[str, Any], refs: Sequence[ButtonRef], *, has_form: bool
    ) -> tuple[dict[str, Any] | None, bool]:
        """Offer the modal's buttons until one redraws it or the user goes on.

        Returns the redrawn view, or None and whether to go on to the form (else close).
        """
        view_id = str(view.get("id", ""))
        then = (
            "Enter to fill in the form, or `back` to close"
            if has_form
            else "Enter (or `back`) to close"
        )
        first, last = refs[0].number, refs[-1].number
        choice = f"{first}" if first == last else f"{first} to {last}"
        while True:
            line = self.screen.read(f"│ Press a button ({choice}), or {then}: ")
            if line is None:
                return None, False
            typed = line.strip()
            if not typed:
                return None, has_form
            if typed.lower() in _LEAVE_WORDS:
                return None, False
            found = [r for r in refs if typed in (str(r.number), r.text) or typed == r.text.lower()]
            if not found:
                self.screen.print(f"│ There is no button “{typed}” here: type {choice}, or {then}.")
                continue
            self._press(found[0], view)
            redrawn = self._redrawn.pop(view_id, None)
            if redrawn is not None:
                return redrawn, False
            # Whatever the click opened is over; this window is still open underneath.
            self.screen.print(f"┌ {view_title(view)} (still open)")
            self.screen.print("│ " + "   ".join(f"[{r.number}] {r.text}" for r in refs))

    def _fill_form(
        self, view: dict[str, Any], inputs: Sequence[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Ask for each input and submit; returns the view the modal shows next, if any."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        pending = list(inputs)
        errors: dict[str, str] = {}
        going_back = False  # after GO_BACK: earlier answers are shown and Enter keeps them
        while True:
            index = 0
            while index < len(pending):
                block = pending[index]
                block_id = block.get("block_id", "")
                before = values.get(block_id)
                skipped = before is not None and is_empty(before)
                earlier = next(iter(before.values()), None) if before and going_back else None
                answer = self.forms.ask(
                    prefilled(block, earlier), errors.get(block_id), insist=skipped
                )
                if answer is None:
                    self.screen.print("└ Cancelled; nothing was saved.")
                    return None
                if answer is GO_BACK:
                    pending, index = self._back_to_choice(inputs, block), 0
                    values.pop(block_id, None)
                    errors, going_back = {}, True
                    continue
                values[block["block_id"]] = {block["element"]["action_id"]: answer}
                index += 1
            going_back = False
            status, body = self._submit(view, values)
            reply = json.loads(body) if body.strip().startswith("{") else {}
            if reply.get("response_action") == "errors":
                errors = {str(k): str(v) for k, v in dict(reply.get("errors") or {}).items()}
                pending = [b for b in inputs if b.get("block_id") in errors]
                if pending:
                    self.screen.print("│ Please fix the fields marked !")
                    continue
                self.screen.print("└ " + "; ".join(shell_wording(e) for e in errors.values()))
                return None
            following: dict[str, Any] | None = None
            if reply.get("response_action") in ("update", "push"):
                new_view = dict(reply.get("view") or {})
                self.screen.print("└ Saved.")
                new_blocks = new_view.get("blocks") or []
                if any(b.get("type") == "input" for b in new_blocks) or buttons_in(new_blocks):
                    # More to do in the window: carry on in it (an update keeps its id; a
                    # pushed view gets its own), open in the local Slack as it would be.
                    pushed = reply["response_action"] == "push"
                    kept = None if pushed else str(view.get("id", "")) or None
                    following = self.recorder.remember_view(new_view, kept)
                else:
                    self.screen.show_blocks("", new_blocks)
            else:
                self.screen.print("└ Submitted." if status == 200 else f"└ HTTP {status}")
            self._show_recorded()
            return following

    def _back_to_choice(
        self, inputs: Sequence[dict[str, Any]], block: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The fields to ask again after Enter on a field the app required: from the
        nearest choice above it (whose answer made it required) to the end."""
        position = list(inputs).index(block)
        back = next(
            (i for i in range(position - 1, -1, -1) if inputs[i]["element"]["type"] in CHOICES),
            position,
        )
        label = (inputs[back].get("label") or {}).get("text", "")
        self.screen.print(f"│ Back to “{label}”: change it, or press Enter to keep an answer.")
        return list(inputs[back:])

    # --------------------------------------------------------------------- loop
    def run(self, inp: IO[str], out: IO[str], *, interactive: bool) -> int:
        """Read lines until EOF or `quit`; returns the number of commands run."""
        self.inp, self.out, self.prompting = inp, out, interactive
        count = 0
        if interactive:
            self.screen.print(f"csp-bot shell, acting as {self.user_id}. Type `help` or `quit`.")
        for warning in self.warnings:
            self.screen.print(f"Note: {warning}")
        if self.warnings and not self.notices:
            self.screen.print()
        if self.notices:
            self.screen.print("Safeguarding referrals are not fully set up yet:")
            for notice in self.notices:
                self.screen.print(f"  - {notice}")
            self.screen.print("The bot works meanwhile; set these before you rely on referrals.")
            self.screen.print()
        try:
            while True:
                line = self.screen.read("csp> ")
                if line is None:
                    break
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line in ("quit", "exit", "\\q"):
                    break
                if not interactive:
                    self.screen.print(f"csp> {line}")
                if line in ("help", "?"):
                    self.screen.print(SHELL_HELP)
                elif line == "home":
                    self.home()
                elif line.isdigit():
                    self.press(int(line))
                elif line.startswith("/"):
                    self.command(line)
                    count += 1
                else:
                    self.screen.print(
                        "Commands start with a slash, like `/csp help`. Type `help` for the "
                        "shell's own commands."
                    )
        finally:
            self.recorder.stop()
        return count
