"""`csp-bot shell`: the real Slack app with no Slack at all.

Reads ``/csp ...`` lines from a terminal or stdin as a chosen user, sends them to
the real Bolt app as signed requests (in-process), and prints what Slack would
show: replies, channel posts, Block Kit as readable text, buttons as numbered
choices, and modals as forms filled in at the prompt. The app's Web API client
talks to a small recorder on 127.0.0.1 that stands in for Slack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from slack_bolt import App, BoltContext
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.context import AppContext
from bot.slack.text_render import ButtonRef, buttons_in, mrkdwn_to_text, render_text
from handlers.app import build_app, unit_of

SHELL_HELP = """\
Type a Slack command as you would in Slack, e.g. `/csp help`, `/csp due`,
`/csp progress dhr amber Panel booked`. Type a person as <@U0123ABCD> (their
Slack user ID): Slack turns a name picked from its list into that.
  <number>   press the button with that number in the last answer
  home       open the App Home tab
  help       this text        quit   leave the shell
In a window (a modal) with buttons, type a button's number, or press Enter to go
on (to its form, or to close it). In a form, press Enter to skip an optional
field; dates are typed as YYYY-MM-DD and people as Slack user IDs."""

SHELL_TOKEN = "xoxb-local-shell"  # noqa: S105 (not a secret: the local recorder ignores it)
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})
_BARE_MENTION = re.compile(r"(?<![<\w])@[A-Za-z]")
_USER_ID = re.compile(r"<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?")
_CALENDAR = re.compile(
    r"\b([Pp])ick (.+?) from the calendar(?: \(YYYY-MM-DD\))?", flags=re.IGNORECASE
)
_LEAVE_WORDS = frozenset({"back", "close", "done", "leave"})
MENTION_NOTE = (
    "Note: in the shell, type a person as <@U0123ABCD> (their Slack user ID). In Slack "
    "you would pick @name from a list and Slack turns it into that."
)


@dataclass(frozen=True)
class Recorded:
    method: str
    args: dict[str, Any]


class Recorder:
    """A minimal local stand-in for the Slack Web API and response URLs."""

    def __init__(self) -> None:
        self.events: queue.Queue[Recorded] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(split.query).items()}
                if raw.startswith("{"):
                    args.update(json.loads(raw))
                elif raw:
                    args.update({k: v[-1] for k, v in parse_qs(raw).items()})
                for key in _JSON_ARGS & args.keys():
                    if isinstance(args[key], str):
                        with contextlib.suppress(ValueError):
                            args[key] = json.loads(args[key])
                if split.path.startswith("/response/"):
                    method, answer = "response_url", None
                else:
                    method = split.path.removeprefix("/api/")
                    answer = recorder.answer(method, args)
                recorder.events.put(Recorded(method, args))
                payload = b"ok" if answer is None else json.dumps(answer).encode()
                self.send_response(200)
                kind = "text/plain" if answer is None else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return self.root + "/api/"

    def response_url(self) -> str:
        return f"{self.root}/response/{next(self._ids)}"

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            number = next(self._ids)
        ts = f"{time.time():.6f}"
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "TSHELL"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": args}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method.startswith("views."):
            view = dict(args.get("view") or {})
            # Every view Slack opens has its own id and hash; so does every one here.
            view["id"] = args.get("view_id") or f"VSHELL{number}"
            view["hash"] = f"{number}.{secrets.token_hex(4)}"
            args["view"] = view  # what the shell shows and later submits
            return {"ok": True, "view": view}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).split(",")[0]}}
        if method == "users.info":
            user = str(args.get("user", ""))
            return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": user}}
        if method == "conversations.history":
            return {"ok": True, "messages": [], "has_more": False}
        return {"ok": True}

    def drain(self) -> Iterator[Recorded]:
        while True:
            try:
                yield self.events.get_nowait()
            except queue.Empty:
                return

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def shell_wording(error: str) -> str:
    """A form error as the shell needs it: there is no calendar to pick from, so a
    date is typed (YYYY-MM-DD)."""

    def typed(match: re.Match[str]) -> str:
        what = "it" if match.group(2).lower() == "one" else match.group(2)
        return f"{'Type' if match.group(1) == 'P' else 'type'} {what} as YYYY-MM-DD"

    return _CALENDAR.sub(typed, error)


def _is_empty(answer: Mapping[str, dict[str, Any]]) -> bool:
    """Whether a state answer ({action_id: {"type": ..., <value>}}) left the field empty."""
    return not any(v for a in answer.values() for k, v in a.items() if k != "type")


def _title(view: Mapping[str, Any]) -> str:
    title = view.get("title")
    return str(title.get("text", "Form")) if isinstance(title, Mapping) else "Form"


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
    "datepicker": "Type the date as YYYY-MM-DD, e.g. {today}.",
    "users_select": "Type the person's Slack user ID, e.g. U0123ABCD (in Slack you would "
    "pick them from a list).",
    "multi_users_select": "Type Slack user IDs separated by commas, e.g. U0123ABCD, U0456EFGH.",
    "channels_select": "Type the channel's ID, e.g. C0123ABCD.",
    "conversations_select": "Type the channel's ID, e.g. C0123ABCD.",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHANNEL_ID = re.compile(r"<?#?([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>?")


def _typed_value(kind: str, typed: str) -> str | list[str] | None:
    """What Slack's picker would have sent for ``typed``; None if it cannot be that."""
    if kind == "datepicker":
        if not _DATE.fullmatch(typed):
            return None
        try:
            dt.date.fromisoformat(typed)
        except ValueError:
            return None
        return typed
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
    ) -> None:
        self.ctx = ctx
        self.notices = tuple(notices)  # safeguarding gaps, shown at the top of the session
        self.warnings = tuple(warnings)  # other start-up warnings, shown above them
        self.local_admin = local_admin
        self.user_id = user_id
        self.channel_id = channel_id or ctx.settings.partnership_channel or "CSHELL"
        self.recorder = Recorder()
        self.secret = secrets.token_hex(16)
        client = WebClient(base_url=self.recorder.base_url, token=SHELL_TOKEN)
        self.app = app_factory(
            ctx, client=client, process_before_response=True, signing_secret=self.secret
        )
        if local_admin:
            self.app.use(self._as_local_admin)
        # Each button with the view it sits in (None for a message).
        self.buttons: list[tuple[ButtonRef, dict[str, Any] | None]] = []
        self._triggers = itertools.count(1)
        self._open_views: list[str] = []  # ids of the modals on screen, innermost last
        self._redrawn: dict[str, dict[str, Any]] = {}  # views.update of an open modal
        self._mention_noted = False
        self.out: IO[str] | None = None
        self.inp: IO[str] | None = None
        self.prompting = False

    def _as_local_admin(self, context: BoltContext, next: Callable[[], None]) -> None:
        """Make the shell's own user an admin for this request only: nothing is stored,
        so the database never holds the made-up admin (sweeps, notices and the
        last-admin guard never see it)."""
        unit = unit_of(context)
        actor = unit.actor
        if actor is not None and actor.slack_user_id == self.user_id and not actor.is_admin:
            unit.override_actor(replace(actor, bootstrap_admin=True))
        next()

    # ------------------------------------------------------------------ plumbing
    def _print(self, text: str = "") -> None:
        assert self.out is not None
        self.out.write(text + "\n")
        self.out.flush()

    def _read(self, prompt: str) -> str | None:
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

    def _dispatch(self, body: str, content_type: str) -> tuple[int, str]:
        ts = str(int(time.time()))
        signature = hmac.new(
            self.secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        request = BoltRequest(
            body=body,
            headers={
                "content-type": [content_type],
                "x-slack-request-timestamp": [ts],
                "x-slack-signature": [f"v0={signature}"],
            },
        )
        response = self.app.dispatch(request)
        return response.status, str(response.body or "")

    def _form(self, fields: Mapping[str, str]) -> tuple[int, str]:
        return self._dispatch(urlencode(fields), "application/x-www-form-urlencoded")

    def _trigger(self) -> str:
        return f"shell.{next(self._triggers)}"

    # --------------------------------------------------------------- interactions
    def command(self, text: str) -> None:
        if not self._mention_noted and _BARE_MENTION.search(text):
            self._mention_noted = True
            self._print(MENTION_NOTE)
        command, _, rest = text.strip().partition(" ")
        status, body = self._form(
            {
                "team_id": "TSHELL",
                "team_domain": "shell",
                "channel_id": self.channel_id,
                "channel_name": "shell",
                "user_id": self.user_id,
                "user_name": self.user_id.lower(),
                "command": command,
                "text": rest.strip(),
                "api_app_id": "ASHELL",
                "response_url": self.recorder.response_url(),
                "trigger_id": self._trigger(),
            }
        )
        self.buttons = []
        self._show_response(status, body)
        self._show_recorded()

    def home(self) -> None:
        event = {
            "type": "event_callback",
            "team_id": "TSHELL",
            "api_app_id": "ASHELL",
            "event_id": f"EvSHELL{next(self._triggers)}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": self.user_id, "tab": "home"},
        }
        self.buttons = []
        self._dispatch(json.dumps(event), "application/json")
        self._show_recorded()

    def press(self, number: int) -> None:
        found = [b for b in self.buttons if b[0].number == number]
        if not found:
            self._print(
                f"There is no button {number}. Buttons in the last answer: "
                f"{', '.join(str(b.number) for b, _ in self.buttons) or 'none'}."
            )
            return
        button, view = found[0]
        self.buttons = []
        self._press(button, view)

    def _press(self, button: ButtonRef, view: Mapping[str, Any] | None) -> None:
        """Send the click on ``button`` (in ``view``, or in a message) and show what follows."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "TSHELL", "domain": "shell"},
            "user": {"id": self.user_id, "username": self.user_id.lower()},
            "api_app_id": "ASHELL",
            "trigger_id": self._trigger(),
            "actions": [
                {
                    "type": "button",
                    "action_id": button.action_id,
                    "block_id": button.block_id or "b",
                    "value": button.value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if view is None:
            payload["response_url"] = self.recorder.response_url()
            payload["channel"] = {"id": self.channel_id, "name": "shell"}
            payload["container"] = {"type": "message", "channel_id": self.channel_id}
        else:
            view_id = str(view.get("id", ""))
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {
                "id": view_id,
                "hash": view.get("hash", ""),
                "type": view.get("type", "modal"),
                "callback_id": view.get("callback_id", ""),
                "private_metadata": view.get("private_metadata", ""),
                "state": {"values": {}},
                "title": view.get("title"),
                "blocks": view.get("blocks", []),
            }
        status, body = self._form({"payload": json.dumps(payload)})
        self._show_response(status, body)
        self._show_recorded()

    # ------------------------------------------------------------------- output
    def _show_blocks(self, text: str, blocks: Any, view: dict[str, Any] | None = None) -> None:
        if isinstance(blocks, list) and blocks:
            offset = len(self.buttons)
            rendered = render_text(blocks)
            refs = buttons_in(blocks)
            if offset:
                for ref in reversed(refs):
                    rendered = rendered.replace(f"[{ref.number}]", f"[{ref.number + offset}]")
            self._print(rendered)
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
            self._print(mrkdwn_to_text(text))

    def _show_response(self, status: int, body: str) -> None:
        if status != 200:
            self._print(f"(Slack would show an error: HTTP {status})")
            return
        if not body.strip():
            return
        try:
            reply = json.loads(body)
        except ValueError:
            self._print(body)
            return
        if "response_action" in reply:
            self._print(f"(form: {reply['response_action']})")
            return
        self._print("— only you can see this —")
        self._show_blocks(str(reply.get("text", "")), reply.get("blocks"))

    def _show_recorded(self) -> None:
        for event in list(self.recorder.drain()):
            args = event.args
            if event.method == "response_url":
                self._print("— only you can see this —")
                self._show_blocks(str(args.get("text", "")), args.get("blocks"))
            elif event.method == "chat.postMessage":
                self._print(f"— {self._where(str(args.get('channel', '')))} —")
                self._show_blocks(str(args.get("text", "")), args.get("blocks"))
            elif event.method == "chat.postEphemeral":
                self._print("— only you can see this —")
                self._show_blocks(str(args.get("text", "")), args.get("blocks"))
            elif event.method == "views.publish":
                self._print("— App Home —")
                home = {"id": "VHOME", "type": "home"}
                self._show_blocks("", (args.get("view") or {}).get("blocks"), view=home)
            elif event.method in ("views.open", "views.push"):
                self.fill_modal(dict(args.get("view") or {}))
            elif event.method == "views.update":
                view = dict(args.get("view") or {})
                if str(view.get("id", "")) in self._open_views:
                    self._redrawn[str(view["id"])] = view  # the open modal shows it next
                else:
                    self._print("— the open window now shows —")
                    self._show_blocks("", view.get("blocks"))

    def _where(self, channel: str) -> str:
        if channel in (self.user_id, "D" + self.user_id):
            return "a direct message to you"
        if channel[:1] in ("U", "W"):
            return f"DM to <@{channel}>"
        if channel[:1] == "D" and channel[1:2] in ("U", "W"):
            return f"DM to <@{channel[1:]}>"
        return f"posted in #{channel}"

    # ------------------------------------------------------------------- modals
    def fill_modal(self, view: dict[str, Any]) -> None:
        """Show a modal: its buttons as numbered choices first, then its inputs as a form."""
        view_id = str(view.get("id", ""))
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
            self._print(f"┌ {_title(view)}{how}")
            if shown:
                self._print("│ " + render_text(shown).replace("\n", "\n│ "))
            if refs:
                redrawn, go_on = self._modal_buttons(view, refs, has_form=bool(inputs))
                if redrawn is not None:
                    view = redrawn
                    continue
                if not go_on:
                    self._print("└ Closed; nothing was saved." if inputs else "└ Closed.")
                    return
            elif not inputs and not view.get("submit"):
                self._print("└ Closed.")  # nothing to press or fill in: read, then closed
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
            line = self._read(f"│ Press a button ({choice}), or {then}: ")
            if line is None:
                return None, False
            typed = line.strip()
            if not typed:
                return None, has_form
            if typed.lower() in _LEAVE_WORDS:
                return None, False
            found = [r for r in refs if typed in (str(r.number), r.text) or typed == r.text.lower()]
            if not found:
                self._print(f"│ There is no button “{typed}” here: type {choice}, or {then}.")
                continue
            self._press(found[0], view)
            redrawn = self._redrawn.pop(view_id, None)
            if redrawn is not None:
                return redrawn, False
            # Whatever the click opened is over; this window is still open underneath.
            self._print(f"┌ {_title(view)} (still open)")
            self._print("│ " + "   ".join(f"[{r.number}] {r.text}" for r in refs))

    def _fill_form(
        self, view: dict[str, Any], inputs: Sequence[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Ask for each input and submit; returns the view the modal shows next, if any."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        pending = list(inputs)
        errors: dict[str, str] = {}
        while True:
            for block in pending:
                block_id = block.get("block_id", "")
                before = values.get(block_id)
                skipped = before is not None and _is_empty(before)
                answer = self._ask(block, errors.get(block_id), insist=skipped)
                if answer is None:
                    self._print("└ Cancelled; nothing was saved.")
                    return None
                values[block["block_id"]] = {block["element"]["action_id"]: answer}
            status, body = self._submit(view, values)
            reply = json.loads(body) if body.strip().startswith("{") else {}
            if reply.get("response_action") == "errors":
                errors = {str(k): str(v) for k, v in dict(reply.get("errors") or {}).items()}
                pending = [b for b in inputs if b.get("block_id") in errors]
                if pending:
                    self._print("│ Please fix the fields marked !")
                    continue
                self._print("└ " + "; ".join(shell_wording(e) for e in errors.values()))
                return None
            following: dict[str, Any] | None = None
            if reply.get("response_action") in ("update", "push"):
                new_view = dict(reply.get("view") or {})
                self._print("└ Saved.")
                new_blocks = new_view.get("blocks") or []
                if any(b.get("type") == "input" for b in new_blocks) or buttons_in(new_blocks):
                    # More to do in the window: carry on in it (an update keeps its id).
                    pushed = reply["response_action"] == "push"
                    new_view["id"] = f"VPUSH{next(self._triggers)}" if pushed else view.get("id")
                    following = new_view
                else:
                    self._show_blocks("", new_blocks)
            else:
                self._print("└ Submitted." if status == 200 else f"└ HTTP {status}")
            self._show_recorded()
            return following

    def _ask(
        self, block: dict[str, Any], error: str | None = None, *, insist: bool = False
    ) -> dict[str, Any] | None:
        """One input's answer in Slack's state shape; None to abandon the form.

        ``insist``: an optional field was skipped and the app answered with ``error``
        (it wants a value after all), so Enter no longer skips it: the user types a
        value or `cancel`. After an error on a value that was typed, Enter still
        clears the field.
        """
        element = block["element"]
        kind = str(element.get("type"))
        label = (block.get("label") or {}).get("text", "")
        optional = bool(block.get("optional"))
        insist = insist and optional and error is not None
        hint = block.get("hint")
        if error is None and isinstance(hint, Mapping) and hint.get("text"):
            self._print(f"│   ({mrkdwn_to_text(str(hint['text']))})")
        if error is not None:
            self._print(f"│ ! {shell_wording(error)}")
        if insist:
            suffix = " (type a value, or `cancel` to abandon the form)"
        elif optional and "(optional)" in label:
            suffix = " (Enter to skip)"
        else:
            suffix = " (optional, Enter to skip)" if optional else ""
        if kind in ("static_select", "radio_buttons", "checkboxes"):
            return self._choose(block, kind, label + suffix, optional, error if insist else None)
        how, key, initial = _TYPED.get(kind, ("", "value", "initial_value"))
        if kind == "datepicker":
            how = f"type it as YYYY-MM-DD, e.g. {self._today()}"
        shown_initial = element.get(initial) or ""
        default = f" [{shown_initial}]" if shown_initial else ""
        prompt = f"│ {label}{suffix}{f' ({how})' if how else ''}{default}: "
        while True:
            line = self._read(prompt)
            if line is None:
                return None
            typed = line.strip()
            if insist and typed.lower() == "cancel":
                return None
            if not typed and shown_initial:
                typed = str(shown_initial)
            if not typed:
                if insist:
                    self._print(
                        f"│ ! {shell_wording(error or '')} Type a value, or `cancel` to "
                        "abandon the form."
                    )
                    continue
                if not optional:
                    return None
                return {"type": kind, key: [] if key.endswith("s") else None}
            value = _typed_value(kind, typed)
            if value is None:
                self._print(f"│ {_TYPED_HELP[kind].format(today=self._today())}")
                continue
            return {"type": kind, key: value}

    def _today(self) -> str:
        return f"{self.ctx.clock.now().date():%Y-%m-%d}"

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
            self._print(f"│   {number}. {text}")
        many = kind == "checkboxes"
        initial = element.get("initial_options" if many else "initial_option")
        if initial:
            shown = initial if isinstance(initial, list) else [initial]
            hint = " [" + ", ".join(mrkdwn_to_text(o["text"]["text"]) for o in shown) + "]"
        else:
            hint = ""
        how = "numbers, comma-separated" if many else "number"
        while True:
            line = self._read(f"│ {label}{hint} ({how}): ")
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
                    self._print(
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
            self._print(
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
        return starts[0] if len(starts) == 1 else None

    def _submit(self, view: dict[str, Any], values: dict[str, Any]) -> tuple[int, str]:
        payload = {
            "type": "view_submission",
            "team": {"id": "TSHELL", "domain": "shell"},
            "user": {"id": self.user_id, "username": self.user_id.lower()},
            "api_app_id": "ASHELL",
            "trigger_id": self._trigger(),
            "view": {
                "id": view.get("id", "VSHELL"),
                "hash": view.get("hash", ""),
                "type": "modal",
                "callback_id": view.get("callback_id", ""),
                "private_metadata": view.get("private_metadata", ""),
                "state": {"values": values},
                "title": view.get("title"),
                "blocks": view.get("blocks", []),
            },
        }
        return self._form({"payload": json.dumps(payload)})

    # --------------------------------------------------------------------- loop
    def run(self, inp: IO[str], out: IO[str], *, interactive: bool) -> int:
        """Read lines until EOF or `quit`; returns the number of commands run."""
        self.inp, self.out, self.prompting = inp, out, interactive
        count = 0
        if interactive:
            self._print(f"csp-bot shell, acting as {self.user_id}. Type `help` or `quit`.")
        for warning in self.warnings:
            self._print(f"Note: {warning}")
        if self.warnings and not self.notices:
            self._print()
        if self.notices:
            self._print("Safeguarding referrals are not fully set up yet:")
            for notice in self.notices:
                self._print(f"  - {notice}")
            self._print("The bot works meanwhile; set these before you rely on referrals.")
            self._print()
        try:
            while True:
                line = self._read("csp> ")
                if line is None:
                    break
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line in ("quit", "exit", "\\q"):
                    break
                if not interactive:
                    self._print(f"csp> {line}")
                if line in ("help", "?"):
                    self._print(SHELL_HELP)
                elif line == "home":
                    self.home()
                elif line.isdigit():
                    self.press(int(line))
                elif line.startswith("/"):
                    self.command(line)
                    count += 1
                else:
                    self._print(
                        "Commands start with a slash, like `/csp help`. Type `help` for the "
                        "shell's own commands."
                    )
        finally:
            self.recorder.stop()
        return count
