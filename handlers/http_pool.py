"""The HTTP server's threads: connections are served by threads kept waiting for them.

The standard library's threading server starts a new thread for each connection, so
a burst of new connections is accepted one at a time, each waiting for its thread
to start. :class:`ConnectionPool` keeps :data:`SPARE_THREADS` threads waiting; a
connection goes to one of them, or to a new thread when none waits, and a thread
whose connection ends stays only while fewer than the spare number wait. Each
thread serves one connection at a time, so keep-alive connections never wait for
each other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

SPARE_THREADS = 16  # threads kept waiting for connections
POOL_THREAD = "csp-http-connection"

_Job = tuple[Any, Any]  # a connection's socket and its client address


class ConnectionPool:
    """Threads serving connections with ``serve(request, client_address)``."""

    def __init__(self, serve: Callable[[Any, Any], None], *, spare: int = SPARE_THREADS):
        self._serve = serve
        self._spare = spare
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for a connection, not yet promised one
        self._count = 0  # the pool's threads alive
        self._closing = False

    def start(self) -> None:
        """Start the spare threads, each waiting for a connection."""
        for _ in range(self._spare):
            self._spawn(None)

    @property
    def threads(self) -> int:
        """How many threads the pool has now (serving a connection or waiting)."""
        with self._lock:
            return self._count

    def hand_over(self, request: Any, client_address: Any) -> None:
        """Give the connection to a waiting thread, or to a new one when none waits."""
        with self._lock:
            waiting = self._idle > 0
            if waiting:
                self._idle -= 1  # that thread is promised this connection
        if waiting:
            self._jobs.put((request, client_address))
        else:
            self._spawn((request, client_address))

    def close(self) -> None:
        """Let the waiting threads go; those serving a connection end after it."""
        with self._lock:
            self._closing, waiting, self._idle = True, self._idle, 0
        for _ in range(waiting):
            self._jobs.put(None)

    def _spawn(self, job: _Job | None) -> None:
        with self._lock:
            self._count += 1
        threading.Thread(target=self._run, args=(job,), name=POOL_THREAD, daemon=True).start()

    def _run(self, job: _Job | None) -> None:
        """Serve ``job``'s connection, then wait for the next, unless enough threads
        are waiting already or the pool is closing."""
        try:
            while True:
                if job is not None:
                    self._serve(*job)
                with self._lock:
                    if self._closing or self._idle >= self._spare:
                        return
                    self._idle += 1
                job = self._jobs.get()
                if job is None:
                    return
        finally:
            with self._lock:
                self._count -= 1
