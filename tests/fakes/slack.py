"""A fake Slack Web API: a real local HTTP server that records every call.

Point ``WebClient(base_url=fake.base_url)`` at it. It answers the Web API methods the
bot uses, keeps the messages each channel received (so ``conversations.history`` can
serve them back), records every ``response_url`` post, and can fail on demand:
HTTP 500, 429 with ``Retry-After``, or ``ok: false`` errors such as ``invalid_auth``.

Also here: helpers that build Slack-signed requests and typical request bodies
(slash commands, block actions, view submissions), shared by the integration tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

# Arguments Slack sends as JSON strings inside form-encoded bodies.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "unfurl"})

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0CSP"


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``method`` is the Web API method ("chat.postMessage") or "response_url".
    ``args`` merges query string, form or JSON body (JSON-in-form fields decoded).
    ``at`` is ``time.monotonic()`` when it arrived. ``ok`` is False when the fake
    answered with an error (injected or real, e.g. ``message_not_found``).
    """

    method: str
    args: dict[str, Any]
    at: float
    ok: bool = True
    status: int = 200
    token: str | None = None
    path: str = ""


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    until: float | None = None  # outage window end (monotonic); None for counted failures
    remaining: int = 0


@dataclass
class _Reply:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # read when the socket starts listening


class FakeSlack:
    """Recording fake of Slack's Web API on 127.0.0.1 (a free port), in a thread."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._last_post: dict[str, float] = {}
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.per_channel_interval: float | None = None
        self.base_url = ""
        self.root_url = ""

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            owner = fake

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        port = server.server_address[1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-slack-{port}",
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

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------- reading
    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to one method; ``ok=True`` keeps only the ones that succeeded."""
        with self._lock:
            return [c for c in self._calls if c.method == method and (ok is None or c.ok == ok)]

    def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 5.0, ok: bool | None = None
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls if c.method == method and (ok is None or c.ok == ok)
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self._calls})
                    raise AssertionError(
                        f"expected {count} call(s) to {method}, got {len(found)}; seen: {seen}"
                    )
                self._cond.wait(left)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """What chat.postMessage / chat.update left in ``channel``, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages.get(channel, [])]

    def response_url(self) -> str:
        """A fresh URL on the fake; posts to it are recorded as method "response_url"."""
        return f"{self.root_url}/response/{next(self._ids)}"

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override what users.info answers for ``user_id`` (e.g. real_name, tz)."""
        with self._lock:
            self.users[user_id] = {**self._default_user(user_id), **fields}

    # ------------------------------------------------------------------ failures
    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls to ``method`` fail.

        ``status=500`` or ``status=429`` (with ``retry_after`` seconds) answer an HTTP
        error; ``error="invalid_auth"`` (status 200) answers ``ok: false``.
        """
        if status == 200 and error is None:
            raise ValueError("fail_next needs an HTTP error status or an error code")
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, error, retry_after, remaining=times)
            )

    def fail_for(
        self, method: str, seconds: float, *, status: int, retry_after: int | None = None
    ) -> None:
        """Every call to ``method`` fails with ``status`` for the next ``seconds`` (outage)."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, None, retry_after, until=time.monotonic() + seconds)
            )

    def clear_failures(self) -> None:
        """End every failure set with fail_next / fail_for: Slack is healthy again."""
        with self._lock:
            self._failures.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, users and pending failures."""
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._failures.clear()
            self._last_post.clear()
            self.views.clear()
            self.home_views.clear()
            self.users.clear()
            self.per_channel_interval = None

    # ------------------------------------------------------------------ internals
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        now = time.monotonic()
        queue = self._failures.get(method, [])
        for failure in list(queue):
            if failure.until is not None:
                if now < failure.until:
                    return failure
                queue.remove(failure)
            elif failure.remaining > 0:
                failure.remaining -= 1
                if failure.remaining == 0:
                    queue.remove(failure)
                return failure
        return None

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

    def _handle(self, method: str, args: dict[str, Any], token: str | None, path: str) -> _Reply:
        with self._lock:
            failure = self._take_failure(method)
            if failure is not None:
                reply = _failure_reply(failure)
            elif method == "response_url":
                reply = _Reply(200, "ok")
            else:
                reply = self._answer(method, args)
            ok = reply.status == 200 and (
                not isinstance(reply.body, dict) or bool(reply.body.get("ok"))
            )
            self._record(Call(method, args, time.monotonic(), ok, reply.status, token, path))
            return reply

    def _answer(self, method: str, args: dict[str, Any]) -> _Reply:
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return _Reply(200, {"ok": False, "error": "unknown_method"})
        body: dict[str, Any] = handler(args)
        return _Reply(200, body)

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
        now = time.monotonic()
        interval = self.per_channel_interval
        last = self._last_post.get(channel)
        if interval is not None and last is not None and now - last < interval:
            wait = max(1, math.ceil(interval - (now - last)))
            raise _RateLimited(wait)
        self._last_post[channel] = now
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
        stored["id"] = view_id or f"V{next(self._ids):08d}"
        stored["hash"] = f"{time.time():.6f}"
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


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _failure_reply(failure: _Failure) -> _Reply:
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = str(failure.retry_after)
    if failure.status == 429:
        return _Reply(429, {"ok": False, "error": "ratelimited"}, headers)
    if failure.status != 200:
        return _Reply(failure.status, {"ok": False, "error": "internal_error"}, headers)
    return _Reply(200, {"ok": False, "error": failure.error or "fatal_error"}, headers)


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
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read(self) -> tuple[str, dict[str, Any], str | None]:
        split = urlsplit(self.path)
        args = _decode_args(parse_qs(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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

    def _send(self, reply: _Reply) -> None:
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
        else:
            self._send(_Reply(404, {"ok": False, "error": "not_found"}))
            return
        try:
            reply = self.owner._handle(method, args, token, path)
        except _RateLimited as limited:
            reply = _Reply(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(limited.retry_after)},
            )
            self.owner._record(Call(method, args, time.monotonic(), False, 429, token, path))
        self._send(reply)

    do_POST = _dispatch
    do_GET = _dispatch


# --------------------------------------------------------------------------------
# Signed requests and typical bodies
# --------------------------------------------------------------------------------

SIGNING_SECRET = "test-secret"


def _encode_form(body: Mapping[str, Any]) -> str:
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})


def signed_request(
    body: str | Mapping[str, Any],
    *,
    content_type: str = "form",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> tuple[dict[str, str], str]:
    """Headers and raw body for a request Slack signed with ``secret``.

    ``body`` may be the raw text or a mapping (form-encoded, non-strings as JSON; or
    JSON when ``content_type="json"``). ``timestamp`` defaults to now (real time:
    Bolt checks it against the system clock).
    """
    if isinstance(body, str):
        raw = body
    elif content_type == "json":
        raw = json.dumps(body)
    else:
        raw = _encode_form(body)
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json"
        if content_type == "json"
        else "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    return headers, raw


def slash_command(
    text: str,
    *,
    user_id: str = "UADMIN",
    channel_id: str = "C0PARTNER",
    response_url: str = "",
    trigger_id: str = "T1.trigger",
    command: str = "/csp",
) -> dict[str, str]:
    """The form fields Slack sends for a slash command."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "csp",
        "channel_id": channel_id,
        "channel_name": "csp",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0CSP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_action(
    action_id: str,
    value: str = "",
    *,
    user_id: str = "UADMIN",
    channel_id: str | None = "C0PARTNER",
    response_url: str = "",
    trigger_id: str = "T2.trigger",
    block_id: str = "b",
    view: Mapping[str, Any] | None = None,
    message_ts: str | None = None,
) -> dict[str, str]:
    """Form body of a ``block_actions`` interaction (a button click)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "csp"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0CSP",
        "token": "legacy-verification-token",
        "trigger_id": trigger_id,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if response_url:
        payload["response_url"] = response_url
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "csp"}
        payload["container"] = {
            "type": "message",
            "channel_id": channel_id,
            "message_ts": message_ts or "1700000000.000100",
            "is_ephemeral": False,
        }
        payload["message"] = {"ts": message_ts or "1700000000.000100", "text": ""}
    if view is not None:
        payload["view"] = dict(view)
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
    return {"payload": json.dumps(payload)}


def view_submission(
    callback_id: str,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    user_id: str = "UADMIN",
    private_metadata: str = "",
    view_id: str = "V0SUBMIT",
    trigger_id: str = "T3.trigger",
) -> dict[str, str]:
    """Form body of a ``view_submission``; ``values`` is view.state.values."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "csp"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0CSP",
        "token": "legacy-verification-token",
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": {k: dict(v) for k, v in values.items()}},
            "hash": "1",
            "title": {"type": "plain_text", "text": "Form"},
            "blocks": [],
        },
        "response_urls": [],
    }
    return {"payload": json.dumps(payload)}


def event_callback(event: Mapping[str, Any], *, event_id: str = "Ev0001") -> dict[str, Any]:
    """JSON body of an Events API ``event_callback`` (send with content_type="json")."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0CSP",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": dict(event),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }
