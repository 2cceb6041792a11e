"""The Socket Mode link: websocket-client with ping/pong, envelopes applied once, link_disabled.

Bolt's production adapter (``slack_bolt.adapter.socket_mode.websocket_client``) with
three things added: a ping timeout, so a peer that vanished without a close frame is
noticed within seconds and the link re-opened; a bounded memory of envelope ids, so an
envelope Slack delivers again (its ack lost around a reconnect) is answered with the
first ack and not applied twice; and ``disconnect`` with ``link_disabled`` (Socket
Mode switched off for the app) ending the link instead of reconnecting for ever.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocketApp, WebSocketTimeoutException

# A ping every PING_INTERVAL s; no pong within PING_TIMEOUT s means the peer is gone.
# Worst case from the peer vanishing to a new link: PING_INTERVAL to the next ping,
# then up to 2 x PING_TIMEOUT (the read loop checks once per PING_TIMEOUT), then the
# client's half-second session runner: under 10 s, inside 15 s.
PING_INTERVAL = 5.0
PING_TIMEOUT = 2.0
# Slack redelivers an unacknowledged envelope within minutes; a few thousand ids
# cover far more than that at this bot's traffic.
REMEMBERED_ENVELOPES = 2000


class SeenEnvelopes:
    """The last ``limit`` envelope ids and the ack each got (None while in flight)."""

    def __init__(self, limit: int = REMEMBERED_ENVELOPES) -> None:
        self._limit = limit
        self._acks: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._acks)

    def claim(self, envelope_id: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, None) for an envelope not seen before (now in flight); (False, its
        ack) for one seen, the ack None while the first delivery is still running."""
        with self._lock:
            if envelope_id in self._acks:
                self._acks.move_to_end(envelope_id)
                return False, self._acks[envelope_id]
            self._acks[envelope_id] = None
            while len(self._acks) > self._limit:
                self._acks.popitem(last=False)
            return True, None

    def settle(self, envelope_id: str, ack: dict[str, Any]) -> None:
        """Remember the ack sent for ``envelope_id``, to send again on a redelivery."""
        with self._lock:
            if envelope_id in self._acks:
                self._acks[envelope_id] = ack

    def forget(self, envelope_id: str) -> None:
        with self._lock:
            self._acks.pop(envelope_id, None)


class PingingSocketModeClient(SocketModeClient):
    """websocket-client's Socket Mode client with a ping timeout and link_disabled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.link_disabled = threading.Event()
        self.ping_timeout = kwargs.pop("ping_timeout", PING_TIMEOUT)
        super().__init__(*args, **kwargs)
        self.on_error_listeners.append(_drop_dead_link)

    def enqueue_message(self, message: str) -> None:
        if message.startswith("{") and '"disconnect"' in message:
            parsed = json.loads(message)
            if parsed.get("type") == "disconnect" and parsed.get("reason") == "link_disabled":
                self.auto_reconnect_enabled = False  # reconnecting cannot help
                self.link_disabled.set()
                return
        super().enqueue_message(message)

    def _run_current_session(self) -> None:
        # As the library's, with ping_timeout: it only pings, and never notices that
        # no pong came back.
        session = self.current_session
        if session is None:
            return
        try:
            self.logger.info("Starting to receive messages from a new connection")
            session.run_forever(
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                http_proxy_host=self.http_proxy_host,
                http_proxy_port=self.http_proxy_port,
                http_proxy_auth=self.http_proxy_auth,
                proxy_type=self.proxy_type,
            )
            self.logger.info("Stopped receiving messages from a connection")
        except Exception as exc:
            self.logger.error("The Socket Mode connection failed (%s)", type(exc).__name__)
            if self.current_session is not None:
                self.current_session.close()


def _drop_dead_link(ws: WebSocketApp, error: Exception) -> None:
    """No pong came: close the socket at once rather than wait 3 s for a close frame
    from a peer that is gone."""
    if isinstance(error, WebSocketTimeoutException) and ws.sock is not None:
        ws.sock.shutdown()  # type: ignore[no-untyped-call]


class OnceSocketModeHandler(SocketModeHandler):
    """Bolt's websocket-client adapter that applies each envelope id once."""

    client: PingingSocketModeClient

    def __init__(self, app: App, app_token: str, *, ping_interval: float = PING_INTERVAL) -> None:
        # Not the base initialiser: it would start a second client of its own.
        self.app = app
        self.app_token = app_token
        self.client = PingingSocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
        )
        self.client.socket_mode_request_listeners.append(self.handle)
        self.seen = SeenEnvelopes()

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        first, ack = self.seen.claim(req.envelope_id)
        if not first:
            if ack is not None:  # the first ack was lost: send it again
                client.send_socket_mode_response(ack)
            return  # still in flight: its own ack follows
        try:
            bolt_resp = run_bolt_app(self.app, req)
        except BaseException:
            self.seen.forget(req.envelope_id)
            raise
        if bolt_resp.status != 200:
            client.logger.info("Unsuccessful Bolt execution result (status: %s)", bolt_resp.status)
            self.seen.forget(req.envelope_id)  # nothing was applied: a redelivery may try
            return
        answer = _ack(req.envelope_id, bolt_resp.body, bolt_resp.headers)
        self.seen.settle(req.envelope_id, answer)
        client.send_socket_mode_response(answer)

    def wait(self) -> bool:
        """Block until Slack switches Socket Mode off (True); KeyboardInterrupt to stop."""
        while not self.client.link_disabled.wait(timeout=1.0):
            pass
        return True


def _ack(envelope_id: str, body: str, headers: dict[str, Any]) -> dict[str, Any]:
    """The ack Bolt's adapter sends for a response (its ``send_response``)."""
    if not body:
        return SocketModeResponse(envelope_id=envelope_id).to_dict()
    content_type = (headers.get("content-type") or [""])[0]
    payload = json.loads(body) if content_type.startswith("application/json") else {"text": body}
    return SocketModeResponse(envelope_id=envelope_id, payload=payload).to_dict()


def socket_mode_handler(app: App, app_token: str) -> OnceSocketModeHandler:
    """The Socket Mode transport of `csp-bot run` for ``app``."""
    return OnceSocketModeHandler(app, app_token)
