"""Connections are served by threads kept waiting for them: a burst of new connections
is taken at once, threads beyond the spare ones end when their connection does, and
closing the server lets the waiting ones go."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.context import AppContext
from handlers.app import build_app, make_client
from handlers.http_pool import POOL_THREAD, SPARE_THREADS
from handlers.server import start_http_server


def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_a_burst_of_connections_is_served_and_the_pool_shrinks_back(
    seeded_ctx: AppContext,
) -> None:
    server = start_http_server(build_app(seeded_ctx, client=make_client(seeded_ctx.settings)))
    try:
        assert _until(lambda: server.threads == SPARE_THREADS)
        parts = urlsplit(server.url)
        assert parts.hostname is not None and parts.port is not None
        count = SPARE_THREADS + 8
        connections = [
            http.client.HTTPConnection(parts.hostname, parts.port, timeout=10) for _ in range(count)
        ]
        statuses: list[int] = []
        for conn in connections:  # every connection open at once, each kept alive
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        assert statuses == [200] * count
        assert server.threads >= count
        for conn in connections:  # a second request on each, on the thread it has
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
        for conn in connections:
            conn.close()
        # The threads beyond the spare ones end with their connections.
        assert _until(lambda: server.threads == SPARE_THREADS)
        named = [t for t in threading.enumerate() if t.name == POOL_THREAD]
        assert len(named) >= SPARE_THREADS
    finally:
        server.stop()
    assert _until(lambda: server.threads == 0)
