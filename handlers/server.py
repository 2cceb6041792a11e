"""HTTP transport: Bolt's ``POST /slack/events`` plus ``GET /healthz``.

A threading HTTP/1.1 server from the standard library around ``app.dispatch``:
each connection gets its own thread, Bolt verifies the signature, and the reply is
whatever the listener acked (Bolt keeps slow work after the ack).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything silly


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        health: Callable[[], bool] | None = None,
    ) -> None:
        self.app = app
        self.health = health
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        return f"http://{shown!s}:{port}"

    def start(self) -> SlackHTTPServer:
        """Serve in a background thread (tests, benchmarks)."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="csp-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without TCP_NODELAY each reply with
    # a body waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "csp-bot"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        sent_type = False
        for key, value in (headers or {}).items():
            if key.lower() == "content-length":
                continue
            sent_type = sent_type or key.lower() == "content-type"
            self.send_header(key, value)
        if not sent_type:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == HEALTH_PATH:
            healthy = True
            if self.server.health is not None:
                try:
                    healthy = self.server.health()
                except Exception:
                    log.exception("health check failed")
                    healthy = False
            status = 200 if healthy else 503
            body = json.dumps({"ok": healthy}).encode()
            self._reply(status, body, {"Content-Type": "application/json"})
            return
        self._reply(404, b"not found")

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        if split.path != EVENTS_PATH:
            self._reply(404, b"not found")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._reply(413, b"request too large")
            self.close_connection = True
            return
        raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        headers: dict[str, str | Sequence[str]] = {}
        for key, value in self.headers.items():
            headers[key.lower()] = [*headers.get(key.lower(), []), value]
        request = BoltRequest(body=raw, query=split.query, headers=headers)
        try:
            response = self.server.app.dispatch(request)
        except Exception:
            log.exception("dispatch failed")
            self._reply(500, b"")
            return
        out_headers = {
            key: ", ".join(values) if isinstance(values, list | tuple) else str(values)
            for key, values in response.headers.items()
        }
        body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
        self._reply(response.status, body, out_headers)


def make_server(
    app: App,
    *,
    host: str = "0.0.0.0",  # noqa: S104
    port: int = 3000,
    health: Callable[[], bool] | None = None,
) -> SlackHTTPServer:
    """Bind the server (port 0 picks a free one) without serving yet."""
    return SlackHTTPServer((host, port), app, health)


def start_http_server(
    app: App,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    health: Callable[[], bool] | None = None,
) -> SlackHTTPServer:
    """Bind and serve in a background thread; ``server.url`` is where it listens."""
    return make_server(app, host=host, port=port, health=health).start()


def serve_forever(server: SlackHTTPServer) -> None:
    """Serve in this thread until interrupted (Ctrl-C), then close cleanly."""
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
