"""The fake Slack Web API the tests use: the shell's local Slack plus failures on demand.

:class:`FakeSlack` is :class:`handlers.shell.fake_slack.LocalSlack` (a real local HTTP
server that records every call and answers like Slack) that can also fail on demand:
HTTP 500, 429 with ``Retry-After``, ``ok: false`` errors such as ``invalid_auth``, an
outage window, or a per-channel posting rate; and waits for calls.

Also here: helpers that build Slack-signed requests and typical request bodies
(slash commands, block actions, view submissions), shared by the integration tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from handlers.shell.fake_slack import BOT_USER_ID, TEAM_ID, Call, LocalSlack, Reply


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    until: float | None = None  # outage window end (monotonic); None for counted failures
    remaining: int = 0


class FakeSlack(LocalSlack):
    """The local Slack with failure injection, a per-channel rate and waiting for calls."""

    def __init__(self) -> None:
        super().__init__()
        self._failures: dict[str, list[_Failure]] = {}
        self._drops: dict[str, int] = {}
        self._last_post: dict[str, float] = {}
        self.per_channel_interval: float | None = None
        # Where apps.connections.open points (tests.fakes.socket_mode sets it); with no
        # endpoint attached it answers a URL where nothing listens.
        self.socket_mode_url: str | None = None
        self._links = 0

    def start(self) -> FakeSlack:
        super().start()
        return self

    def __enter__(self) -> FakeSlack:
        return self.start()

    # ------------------------------------------------------------------- reading
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

    def drop_answer_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` are carried out (a post is kept and
        shows in ``conversations.history``), then the connection is closed without an
        answer: Slack did the work and the answer was lost."""
        with self._lock:
            self._drops[method] = self._drops.get(method, 0) + times

    def clear_failures(self) -> None:
        """End every failure set with fail_next / fail_for: Slack is healthy again."""
        with self._lock:
            self._failures.clear()
            self._drops.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, users and pending failures."""
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._failures.clear()
            self._drops.clear()
            self._last_post.clear()
            self.views.clear()
            self.home_views.clear()
            self.users.clear()
            self.per_channel_interval = None

    # ------------------------------------------------------------------ internals
    def _handle(self, method: str, args: dict[str, Any], token: str | None, path: str) -> Reply:
        with self._lock:
            reply = super()._handle(method, args, token, path)
            if self._drops.get(method, 0) > 0:
                self._drops[method] -= 1
                return Reply(reply.status, reply.body, reply.headers, drop=True)
            return reply

    def _intercept(self, method: str, args: dict[str, Any]) -> Reply | None:
        failure = self._take_failure(method)
        if failure is not None:
            return _failure_reply(failure)
        if method == "chat.postMessage":
            return self._rate_limited(str(args.get("channel") or ""))
        return None

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

    def _rate_limited(self, channel: str) -> Reply | None:
        """A 429 when ``channel`` was posted to less than ``per_channel_interval`` ago."""
        interval = self.per_channel_interval
        last = self._last_post.get(channel)
        if not channel or interval is None or last is None:
            return None
        waited = time.monotonic() - last
        if waited >= interval:
            return None
        wait = max(1, math.ceil(interval - waited))
        return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._links += 1
        url = self.socket_mode_url or "ws://127.0.0.1:9/link"
        return {"ok": True, "url": f"{url}?ticket={self._links}"}

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._api_chat_postMessage(args)
        if answer.get("ok"):
            self._last_post[str(answer["channel"])] = time.monotonic()
        return answer


def _failure_reply(failure: _Failure) -> Reply:
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = str(failure.retry_after)
    if failure.status == 429:
        return Reply(429, {"ok": False, "error": "ratelimited"}, headers)
    if failure.status != 200:
        return Reply(failure.status, {"ok": False, "error": "internal_error"}, headers)
    return Reply(200, {"ok": False, "error": failure.error or "fatal_error"}, headers)


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
