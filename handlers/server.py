"""HTTP transport: Bolt's ``POST /slack/events``, ``GET /healthz`` and the calendar feed.

A threading HTTP/1.1 server from the standard library around ``app.dispatch``:
each connection is served by its own thread, taken from threads kept waiting
(:mod:`handlers.http_pool`). The endpoint is public, so:

- every read has a timeout (:data:`READ_TIMEOUT`) and a whole body must arrive
  within it; at most :data:`MAX_CONNECTIONS` are open at once, and a connection
  beyond the cap hangs up on the oldest idle one (waiting for a request), so slow
  or idle sockets cannot keep Slack out;
- the Slack signature is checked on the raw bytes before anything is parsed (401
  otherwise), and a signed body that is not a well-formed Slack payload gets a 400
  (see :mod:`handlers.payloads`) instead of reaching Bolt.

The reply is whatever the listener acked (Bolt keeps slow work after the ack).
``GET /calendar/<secret>.ics`` answers the partnership's calendar feed when its
secret matches (``handlers.calendar``); any other path or secret is a 404, and the
secret is never written to the log.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from handlers.app import signing_secret_of
from handlers.http_head import read_headers
from handlers.http_pool import ConnectionPool
from handlers.payloads import malformed

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything silly
READ_TIMEOUT = 5.0  # seconds of silence, and for a whole body, before hanging up
MAX_CONNECTIONS = 200
CALENDAR_PATH = re.compile(r"^/calendar/([A-Za-z0-9_-]{16,128})\.ics$")
_CALENDAR_IN_LOG = re.compile(r"/calendar/[^ ]*")


class SlackHTTPServer(ThreadingHTTPServer):
    # ThreadingMixIn gives process_request_thread (one connection, then its socket
    # closed); the threads are the pool's, so its daemon_threads setting is not used.
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        health: Callable[[], bool] | None = None,
        signing_secret: str | None = None,
        *,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        calendar: Callable[[str], bytes | None] | None = None,
    ) -> None:
        self.app = app
        self.health = health
        self.calendar = calendar  # secret -> the feed, or None (404)
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._conn_lock = threading.Lock()
        self._connections: dict[Any, bool] = {}  # open sockets, oldest first -> idle?
        secret = signing_secret_of(app) if signing_secret is None else signing_secret
        # No secret, no way to tell Slack from anyone else: every POST gets a 401.
        self.verifier = SignatureVerifier(secret) if secret else None
        self._thread: threading.Thread | None = None
        # Each connection is served by a thread kept waiting for it (handlers.http_pool).
        self._pool = ConnectionPool(self.process_request_thread)
        super().__init__(address, _Handler)
        self._pool.start()

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

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            if len(self._connections) >= self.max_connections:
                victim = next((s for s, idle in self._connections.items() if idle), None)
                if victim is None:  # every connection is mid-request: refuse this one
                    log.warning("connection cap (%d) reached; refused one", self.max_connections)
                    self.shutdown_request(request)
                    return
                del self._connections[victim]
                _hang_up(victim)  # its thread reads end-of-file and finishes
            self._connections[request] = True
        self._pool.hand_over(request, client_address)

    @property
    def threads(self) -> int:
        """How many threads serve connections now (serving one or waiting)."""
        return self._pool.threads

    def server_close(self) -> None:
        super().server_close()
        self._pool.close()

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def mark(self, request: Any, *, idle: bool) -> None:
        """Whether ``request``'s connection is waiting for a request (may be hung up on)."""
        with self._conn_lock:
            if request in self._connections:
                self._connections[request] = idle

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _hang_up(sock: Any) -> None:
    with contextlib.suppress(OSError):  # already gone
        sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    raw_requestline: bytes  # read by the base class before parse_request
    protocol_version = "HTTP/1.1"
    # A reply longer than the write buffer (a calendar feed) goes out in several writes;
    # without TCP_NODELAY each of those waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    # Writes are buffered and sent when the request is done (the base class flushes
    # after each request): headers and a short body go out in one system call.
    wbufsize = 64 * 1024
    server_version = "csp-bot"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout)  # every read on this connection

    def parse_request(self) -> bool:
        parsed = self._parse_head()
        self.server.mark(self.request, idle=False)  # request line and headers are in
        return parsed

    def _parse_head(self) -> bool:
        """The request line and headers (the base class reads the headers through the
        email parser, about a tenth of a short request's time). HTTP/1.0 and 1.1 only;
        a line or header block out of bounds is refused as the base class refuses it."""
        self.command = ""
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        # A refusal is sent with its status line (none is written for HTTP/0.9).
        if len(words) != 3:
            return self._refuse(HTTPStatus.BAD_REQUEST, "Bad request line")
        command, path, version = words
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            return self._refuse(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/1.0 or 1.1 only")
        self.command, self.path, self.request_version = command, path, version
        self.close_connection = version == "HTTP/1.0"
        headers = read_headers(self.rfile)
        if isinstance(headers, str):
            return self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, headers)
        if headers is None:
            return self._refuse(HTTPStatus.BAD_REQUEST, "Bad header line")
        self.headers = headers
        connection = (headers.get("Connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = (headers.get("Expect") or "").lower()
        if expect == "100-continue" and version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _refuse(self, status: HTTPStatus, why: str) -> bool:
        self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.send_error(status, why)
        return False

    def handle_expect_100(self) -> bool:
        parsed = super().handle_expect_100()
        self.wfile.flush()  # writes are buffered: the client waits for this before its body
        return parsed

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # timed out or hung up on mid-request: nothing more to say
            self.close_connection = True
        finally:
            self.server.mark(self.request, idle=True)

    def _read_body(self, length: int) -> bytes | None:
        """The body, or None when it does not arrive within the read timeout."""
        deadline = time.monotonic() + self.server.read_timeout
        chunks: list[bytes] = []
        left = length
        while left > 0:
            if time.monotonic() > deadline:
                return None
            chunk = self.rfile.read1(min(left, 65536))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def log_message(self, format: str, *args: Any) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return  # every request passes here: nothing to build when nobody reads it
        shown = [
            _CALENDAR_IN_LOG.sub("/calendar/...", a) if isinstance(a, str) else a for a in args
        ]
        log.debug("%s " + format, self.address_string(), *shown)

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

    def _signed(self, data: bytes) -> bool:
        """Slack's signature over the raw bytes, checked before any parsing."""
        timestamp = self.headers.get("X-Slack-Request-Timestamp") or ""
        signature = self.headers.get("X-Slack-Signature") or ""
        if self.server.verifier is None or not timestamp or not signature:
            return False
        try:
            return self.server.verifier.is_valid(
                body=data, timestamp=timestamp, signature=signature
            )
        except (ValueError, TypeError):
            return False

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
        found = CALENDAR_PATH.match(path)
        if found is not None and self.server.calendar is not None:
            try:
                feed = self.server.calendar(found.group(1))
            except Exception:
                log.exception("the calendar feed failed")
                self._reply(500, b"")
                return
            if feed is not None:
                etag = '"' + hashlib.sha256(feed).hexdigest()[:32] + '"'
                headers = {
                    "Content-Type": "text/calendar; charset=utf-8",
                    "Content-Disposition": 'inline; filename="csp-calendar.ics"',
                    "Cache-Control": "private, max-age=300",
                    "ETag": etag,
                }
                if etag in (self.headers.get("If-None-Match") or ""):
                    self._reply(304, b"", headers)  # the subscriber's copy is current
                else:
                    self._reply(200, feed, headers)
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
        try:
            body = self._read_body(length)
        except OSError:
            body = None
        if body is None:
            log.debug("a request body did not arrive in time; hung up")
            self.close_connection = True
            self._reply(408, b"the request body did not arrive in time; send it again")
            return
        data = body
        if not self._signed(data):
            self._reply(401, b"invalid request signature")
            return
        raw = data.decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {}
        for key, value in self.headers.items():
            headers[key.lower()] = [*headers.get(key.lower(), []), value]
        try:
            request = BoltRequest(body=raw, query=split.query, headers=headers)
            problem = malformed(request.body)
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
            problem = type(exc).__name__
        if problem is not None:
            # Signed but not a Slack payload: say so without echoing any of it.
            log.warning("refused a malformed signed request (%s)", problem)
            self._reply(400, b"not a Slack payload this bot understands; nothing was done")
            return
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
    signing_secret: str | None = None,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    calendar: Callable[[str], bytes | None] | None = None,
) -> SlackHTTPServer:
    """Bind the server (port 0 picks a free one) without serving yet.

    Requests are checked with ``signing_secret``, by default the one :func:`build_app`
    gave ``app``; with none at all every POST is refused (401)."""
    return SlackHTTPServer(
        (host, port),
        app,
        health,
        signing_secret,
        read_timeout=read_timeout,
        max_connections=max_connections,
        calendar=calendar,
    )


def start_http_server(
    app: App,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    health: Callable[[], bool] | None = None,
    signing_secret: str | None = None,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    calendar: Callable[[str], bytes | None] | None = None,
) -> SlackHTTPServer:
    """Bind and serve in a background thread; ``server.url`` is where it listens."""
    server = make_server(
        app,
        host=host,
        port=port,
        health=health,
        signing_secret=signing_secret,
        read_timeout=read_timeout,
        max_connections=max_connections,
        calendar=calendar,
    )
    return server.start()


def serve_forever(server: SlackHTTPServer) -> None:
    """Serve in this thread until interrupted (Ctrl-C), then close cleanly."""
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
