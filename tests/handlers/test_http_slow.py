"""Slow and idle clients cannot take the endpoint down: a body that never arrives is
dropped within seconds, and idle sockets beyond the connection cap make room for a
signed request instead of keeping it out (all on loopback, in bounded loops)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bot.context import AppContext
from tests.fakes.slack import FakeSlack, signed_request, slash_command
from tests.handlers.test_http import post


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def test_a_client_promising_more_than_it_sends_is_dropped(slack_http: str) -> None:
    headers, raw = signed_request(slash_command("help"))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    started = time.monotonic()
    with socket.create_connection(_address(slack_http), timeout=20) as sock:
        sock.sendall(
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\n{head}Content-Length: "
            f"{len(raw) + 5000}\r\n\r\n{raw}".encode()
        )
        answer = b""
        while chunk := sock.recv(4096):  # until the server hangs up
            answer += chunk
    assert time.monotonic() - started < 8
    assert b"200 OK" not in answer


@pytest.fixture
def capped_http(seeded_ctx: AppContext) -> Iterator[str]:
    from handlers.app import build_app, make_client
    from handlers.server import start_http_server

    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    server = start_http_server(app, max_connections=20)
    try:
        yield server.url
    finally:
        server.stop()


def test_idle_sockets_cannot_keep_a_signed_request_out(
    capped_http: str, fake_slack: FakeSlack
) -> None:
    idle = [socket.create_connection(_address(capped_http), timeout=5) for _ in range(60)]
    try:
        time.sleep(0.3)
        for attempt in range(3):
            started = time.monotonic()
            status, body = post(capped_http, slash_command("help"))
            assert status == 200 and "/csp progress" in body, attempt
            assert time.monotonic() - started < 3
        idle[0].settimeout(2)
        assert idle[0].recv(1) == b""  # the oldest idle socket was hung up on
    finally:
        for sock in idle:
            sock.close()
