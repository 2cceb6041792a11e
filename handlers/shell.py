"""`csp-bot shell`: the real Slack app with no Slack at all.

Reads ``/csp ...`` lines from a terminal or stdin as a chosen user, sends them to
the real Bolt app as signed requests (in-process), and prints what Slack would
show: replies, channel posts, Block Kit as readable text, buttons as numbered
choices, and modals as forms filled in at the prompt. The app's Web API client
talks to a small recorder on 127.0.0.1 that stands in for Slack.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import queue
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
from bot.views import ButtonRef, buttons_in, mrkdwn_to_text, render_text
from handlers.app import build_app, unit_of

SHELL_HELP = """\
Type a Slack command as you would in Slack, e.g. `/csp help`, `/csp due`,
`/csp progress dhr amber Panel booked`.
  <number>   press the button with that number in the last answer
  home       open the App Home tab
  help       this text        quit   leave the shell"""

SHELL_TOKEN = "xoxb-local-shell"  # noqa: S105 (not a secret: the local recorder ignores it)
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})


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
        self.buttons: list[tuple[ButtonRef, str | None]] = []
        self._triggers = itertools.count(1)
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
        button, view_id = found[0]
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
        if view_id is None:
            payload["response_url"] = self.recorder.response_url()
            payload["channel"] = {"id": self.channel_id, "name": "shell"}
            payload["container"] = {"type": "message", "channel_id": self.channel_id}
        else:
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {"id": view_id, "type": "home"}
        self.buttons = []
        status, body = self._form({"payload": json.dumps(payload)})
        self._show_response(status, body)
        self._show_recorded()

    # ------------------------------------------------------------------- output
    def _show_blocks(self, text: str, blocks: Any, view_id: str | None = None) -> None:
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
                        view_id,
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
                self._show_blocks("", (args.get("view") or {}).get("blocks"), view_id="VHOME")
            elif event.method in ("views.open", "views.push"):
                self.fill_modal(dict(args.get("view") or {}))

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
        title = (view.get("title") or {}).get("text", "Form")
        self._print(f"┌ {title} (press Enter on a required field with nothing to cancel)")
        values: dict[str, dict[str, dict[str, Any]]] = {}
        inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                self._print("│ " + render_text([block]).replace("\n", "\n│ "))
        pending = inputs
        errors: dict[str, str] = {}
        while True:
            for block in pending:
                if errors.get(block.get("block_id", "")):
                    self._print(f"│ ! {errors[block['block_id']]}")
                answer = self._ask(block)
                if answer is None:
                    self._print("└ Cancelled; nothing was saved.")
                    return
                values[block["block_id"]] = {block["element"]["action_id"]: answer}
            status, body = self._submit(view, values)
            reply = json.loads(body) if body.strip().startswith("{") else {}
            if reply.get("response_action") == "errors":
                errors = dict(reply.get("errors") or {})
                pending = [b for b in inputs if b.get("block_id") in errors]
                if pending:
                    self._print("│ Please fix the fields marked !")
                    continue
                self._print("└ " + "; ".join(errors.values()))
                return
            if reply.get("response_action") in ("update", "push"):
                new_view = reply.get("view") or {}
                self._print("└ Saved.")
                self._show_blocks("", new_view.get("blocks"))
            else:
                self._print("└ Submitted." if status == 200 else f"└ HTTP {status}")
            self._show_recorded()
            return

    def _ask(self, block: dict[str, Any]) -> dict[str, Any] | None:
        element = block["element"]
        kind = element.get("type")
        label = (block.get("label") or {}).get("text", "")
        optional = bool(block.get("optional"))
        if optional and "(optional)" in label:
            suffix = " (Enter to skip)"
        else:
            suffix = " (optional, Enter to skip)" if optional else ""
        if kind in ("static_select", "radio_buttons", "checkboxes"):
            return self._choose(block, kind, label + suffix, optional)
        if kind == "datepicker":
            line = self._read(f"│ {label}{suffix} (YYYY-MM-DD): ")
            if line is None:
                return None
            return {"type": kind, "selected_date": line.strip() or None}
        initial_value = element.get("initial_value") or ""
        hint = f" [{initial_value}]" if initial_value else ""
        line = self._read(f"│ {label}{suffix}{hint}: ")
        if line is None:
            return None
        value = line.strip() or initial_value
        if not value and not optional:
            return None
        return {"type": kind, "value": value or None}

    def _choose(
        self, block: dict[str, Any], kind: str, label: str, optional: bool
    ) -> dict[str, Any] | None:
        """A menu, radio buttons or checkboxes: options numbered; type a number (or
        several, for checkboxes) or the option's text."""
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
            if not line:
                if initial:
                    key = "selected_options" if many else "selected_option"
                    return {"type": kind, key: initial}
                if optional:
                    return (
                        {"type": kind, "selected_options": []}
                        if many
                        else {
                            "type": kind,
                            "selected_option": None,
                        }
                    )
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
