"""A local Socket Mode endpoint: a websocket server on 127.0.0.1 that speaks Slack's protocol.

Attach it to a :class:`tests.fakes.slack.FakeSlack` and that fake's
``apps.connections.open`` answers with a ``ws://`` URL to this server. Each connection
gets ``hello``; the test then sends envelopes, reads the acks, sends ``disconnect``,
drops the TCP connection without a close frame (:meth:`drop`), or lets the peer go
silent, answering nothing, not even pings (:meth:`vanish`). Built on the websockets
package's asyncio server, run in a thread of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.fakes.slack import FakeSlack


@dataclass
class Ack:
    """One message the client sent back (an ack names an ``envelope_id``)."""

    message: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    session: int  # which connection (0 = the first) it came on


@dataclass
class _Session:
    number: int
    ws: ServerConnection
    opened_at: float
    closed_at: float | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)


class LocalSocketMode:
    """Slack's Socket Mode end, local, for one FakeSlack."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self.sessions: list[_Session] = []
        self.acks: list[Ack] = []
        self.url = ""

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> LocalSocketMode:
        self._thread.start()
        self._server = self._run(self._listen())
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/link"
        self.slack.socket_mode_url = self.url
        return self

    def stop(self) -> None:
        self.slack.socket_mode_url = None
        for session in self.sessions:
            transport = session.ws.transport
            self._loop.call_soon_threadsafe(transport.abort)
        if self._server is not None:
            self._server.close(close_connections=False)
            self._run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _listen(self) -> Server:
        # No keepalive pings from this end: a vanished peer must be noticed by the bot.
        return await serve(self._serve, "127.0.0.1", 0, ping_interval=None)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _serve(self, ws: ServerConnection) -> None:
        with self._cond:
            session = _Session(len(self.sessions), ws, time.monotonic())
            self.sessions.append(session)
            self._cond.notify_all()
        await ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "local", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "A0CSP"},
                }
            )
        )
        try:
            async for raw in ws:
                message = json.loads(raw)
                with self._cond:
                    self.acks.append(Ack(message, time.monotonic(), session.number))
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                session.closed_at = time.monotonic()
                self._cond.notify_all()

    # ------------------------------------------------------------------ sending
    def _current(self) -> _Session:
        with self._cond:
            assert self.sessions, "no client has connected"
            return self.sessions[-1]

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message`` on the newest connection."""
        session = self._current()
        session.sent.append(message)
        self._run(session.ws.send(json.dumps(message)))

    def send_envelope(
        self,
        payload: dict[str, Any],
        *,
        kind: str = "slash_commands",
        envelope_id: str | None = None,
        retry_attempt: int = 0,
    ) -> str:
        """Send one envelope (a slash command by default); returns its envelope_id."""
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        self.send(envelope)
        return envelope_id

    def disconnect(self, reason: str) -> None:
        """Slack's ``disconnect`` message (``refresh_requested``, ``link_disabled``, ...)."""
        self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "local"}})

    def drop(self) -> None:
        """The TCP connection goes away with no close frame."""
        transport = self._current().ws.transport
        self._loop.call_soon_threadsafe(transport.abort)

    def vanish(self) -> None:
        """The peer goes silent: nothing read, nothing answered (no pongs), no FIN."""
        transport = self._current().ws.transport
        self._loop.call_soon_threadsafe(transport.pause_reading)

    # ------------------------------------------------------------------ waiting
    def wait_sessions(self, count: int, timeout: float) -> _Session:
        """Block until ``count`` connections were opened; returns the newest."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.sessions) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} connection(s) within {timeout} s, "
                        f"got {len(self.sessions)}"
                    )
                self._cond.wait(left)
            return self.sessions[-1]

    def wait_ack(self, envelope_id: str, timeout: float, *, count: int = 1) -> list[Ack]:
        """Block until ``count`` acks for ``envelope_id`` arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [a for a in self.acks if a.message.get("envelope_id") == envelope_id]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} ack(s) for {envelope_id} within {timeout} s, "
                        f"got {len(found)}"
                    )
                self._cond.wait(left)
