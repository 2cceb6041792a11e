"""Slack's Web API, local: a real HTTP server that records every call and answers like Slack.

Point ``WebClient(base_url=slack.base_url)`` at it. It answers the Web API methods
the bot uses (chat.postMessage with a ``ts``, chat.update, conversations.history with
metadata, views.open/push/update/publish, user and conversation lookups, file uploads), keeps the
messages each channel received so ``conversations.history`` can serve them back, and
records every post to a ``response_url`` it handed out. The shell talks to it instead
of Slack; the tests build on it to inject failures.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from handlers.shell.fake_files import FileUploads

# Arguments Slack sends as JSON strings inside form-encoded bodies.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "unfurl", "files"})

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0CSP"


@dataclass(frozen=True)
class Call:
    """One request the stand-in received.

    ``method`` is the Web API method ("chat.postMessage") or "response_url".
    ``args`` merges query string, form or JSON body (JSON-in-form fields decoded).
    ``at`` is ``time.monotonic()`` when it arrived. ``ok`` is False when it was
    answered with an error (injected or real, e.g. ``message_not_found``).
    ``answer`` is the JSON answered (None for a plain-text answer).
    """

    method: str
    args: dict[str, Any]
    at: float
    ok: bool = True
    status: int = 200
    token: str | None = None
    path: str = ""
    answer: dict[str, Any] | None = None


@dataclass
class Reply:
    """What the stand-in answers one request with."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # processed, then the connection is closed without an answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # read when the socket starts listening


class LocalSlack(FileUploads):
    """Recording stand-in for Slack's Web API on 127.0.0.1 (a free port), in a thread."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._init_files()  # files_upload_v2's steps (handlers.shell.fake_files)
        self.base_url = ""
        self.root_url = ""

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> LocalSlack:
        if self._server is not None:
            return self
        owner = self

        class Handler(_Handler):
            slack = owner

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        port = server.server_address[1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"local-slack-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------- reading
    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._calls)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """What chat.postMessage / chat.update left in ``channel``, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages.get(channel, [])]

    def response_url(self) -> str:
        """A fresh URL on the stand-in; posts to it are recorded as method "response_url"."""
        return f"{self.root_url}/response/{next(self._ids)}"

    def remember_view(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        """Keep ``view`` as open (as Slack does for a view an app returns from a form
        submission) and return it with its id and hash."""
        with self._lock:
            return self._store_view(view, view_id)

    # ----------------------------------------------------------------- answering
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _intercept(self, method: str, args: dict[str, Any]) -> Reply | None:
        """A reply that stands in for Slack's own answer (a failure); None for Slack's."""
        return None

    def _handle(self, method: str, args: dict[str, Any], token: str | None, path: str) -> Reply:
        with self._lock:
            reply = self._intercept(method, args)
            if reply is None:
                reply = Reply(200, "ok") if method == "response_url" else self._answer(method, args)
            body = reply.body if isinstance(reply.body, dict) else None
            ok = reply.status == 200 and (body is None or bool(body.get("ok")))
            call = Call(method, args, time.monotonic(), ok, reply.status, token, path, body)
            self._record(call)
            return reply

    def _answer(self, method: str, args: dict[str, Any]) -> Reply:
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return Reply(200, {"ok": False, "error": "unknown_method"})
        body: dict[str, Any] = handler(args)
        return Reply(200, body)

    def _next_ts(self) -> str:
        ts = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = ts
        return f"{ts:.6f}"

    @staticmethod
    def _default_user(user_id: str) -> dict[str, Any]:
        name = f"User {user_id}"
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": name,
            "tz": "Europe/London",
            "is_bot": False,
            "deleted": False,
            "profile": {"real_name": name, "display_name": name},
        }

    # ------------------------------------------------------------- API methods
    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://csp.slack.com/",
            "team": "CSP",
            "user": "csp-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if key in args:
                message[key] = args[key]
        self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("ts") or "")
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                for key in ("text", "blocks", "attachments", "metadata"):
                    if key in args:
                        message[key] = args[key]
                message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": ts,
                    "text": message.get("text", ""),
                    "message": dict(message),
                }
        return {"ok": False, "error": "message_not_found"}

    def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("ts") or "")
        kept = [m for m in self._messages.get(channel, []) if m["ts"] != ts]
        if len(kept) == len(self._messages.get(channel, [])):
            return {"ok": False, "error": "message_not_found"}
        self._messages[channel] = kept
        return {"ok": True, "channel": channel, "ts": ts}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://csp.slack.com/archives/{channel}/p{ts}",
        }

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        cid = "D" + users[0] if len(users) == 1 else "G" + "".join(users)
        return {"ok": True, "channel": {"id": cid}}

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else math.inf
        inclusive = str(args.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(args.get("limit") or 100)
        with_meta = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        picked = []
        for message in reversed(self._messages.get(channel, [])):
            ts = float(message["ts"])
            inside = (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)
            if not inside:
                continue
            shown = dict(message)
            if not with_meta:
                shown.pop("metadata", None)
            picked.append(shown)
        return {"ok": True, "messages": picked[:limit], "has_more": len(picked) > limit}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        return {"ok": True, "channel": {"id": channel, "name": channel.lower()}}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self.users.get(user_id, self._default_user(user_id))}

    def _store_view(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        if isinstance(view, str):
            view = json.loads(view)
        stored = dict(view or {})
        number = next(self._ids)
        stored["id"] = view_id or f"V{number:08d}"
        # Every version of a view has its own hash, as in Slack.
        stored["hash"] = f"{number}.{time.time():.6f}"
        stored.setdefault("state", {"values": {}})
        self.views[stored["id"]] = stored
        return stored

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": self._store_view(args.get("view"))}

    def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._api_views_open(args)

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id and view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": self._store_view(args.get("view"), view_id)}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        view = self._store_view(args.get("view"))
        self.home_views[user_id] = view
        return {"ok": True, "view": view}


def _decode_args(raw: Mapping[str, list[str]]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, values in raw.items():
        value: Any = values[-1] if values else ""
        if key in _JSON_ARGS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        args[key] = value
    return args


class _Handler(BaseHTTPRequestHandler):
    slack: LocalSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read(self) -> tuple[str, dict[str, Any], str | None]:
        split = urlsplit(self.path)
        args = _decode_args(parse_qs(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if split.path.startswith("/upload/"):  # a file's bytes (files_upload_v2, step 2)
            return split.path, {"file_id": split.path[len("/upload/") :], "_data": raw}, None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw:
            text = raw.decode("utf-8", errors="replace")
            if ctype == "application/json":
                try:
                    body = json.loads(text)
                except ValueError:
                    body = {"_raw": text}
                if isinstance(body, dict):
                    args.update(body)
                else:
                    args["_body"] = body
            else:
                args.update(_decode_args(parse_qs(text, keep_blank_values=True)))
        token = None
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif "token" in args:
            token = str(args.pop("token"))
        return split.path, args, token

    def _send(self, reply: Reply) -> None:
        if reply.drop:  # the request was read and acted on; its answer is lost
            self.close_connection = True
            return
        if isinstance(reply.body, str):
            payload = reply.body.encode()
            ctype = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body).encode()
            ctype = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self) -> None:
        path, args, token = self._read()
        if path.startswith("/api/"):
            method = path[len("/api/") :].strip("/")
        elif path.startswith("/response/"):
            method = "response_url"
        elif path.startswith("/upload/"):
            method = "file_upload"
        else:
            self._send(Reply(404, {"ok": False, "error": "not_found"}))
            return
        self._send(self.slack._handle(method, args, token, path))

    do_POST = _dispatch
    do_GET = _dispatch
