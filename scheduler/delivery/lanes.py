"""Outbox lanes: one queue per target over a claimed batch, paced from Slack's last answer.

A lane posts its rows in order, each no sooner than the per-channel interval after
Slack answered the lane's previous post; a worker only takes a lane whose turn has
come, so no worker sleeps on a lane while another one is ready.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence

from scheduler.delivery.records import Claimed
from scheduler.delivery.stats import DeliveryStats


class ChannelPacer:
    """When each target may next be posted to, shared by every outbox in a process.

    Spacing runs from the moment Slack *answered* the previous post to that target (a
    post is received by Slack before it answers, so the gap Slack sees is never shorter
    than the one kept here), and it carries over from one batch, sweep and ``Outbox`` to
    the next. (A 429's ``Retry-After`` is kept in the rows' ``next_attempt_at``.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: dict[str, float] = {}

    def ready_at(self, target: str, interval: float) -> float:
        with self._lock:
            answered = self._answered.get(target)
        return answered + interval if answered is not None else 0.0

    def answered(self, target: str, at: float) -> None:
        with self._lock:
            self._answered[target] = at
            if len(self._answered) > 50_000:  # forget targets not posted to for long
                cutoff = at - 3600.0
                for key in [k for k, v in self._answered.items() if v < cutoff]:
                    del self._answered[key]

    def reset(self) -> None:
        with self._lock:
            self._answered.clear()


PACER = ChannelPacer()


class Lanes:
    """A claimed batch as one lane per target, handed to workers as each lane's turn comes.

    A worker :meth:`take` s a target, posts the first row of ``queues[target]`` (and may
    empty the rest of the lane), then :meth:`put_back` s it: the lane waits for its next
    turn if it has rows left. The statistics of every row are added up in :attr:`stats`.
    """

    def __init__(self, batch: Sequence[Claimed], pacer: ChannelPacer, interval: float) -> None:
        self.queues: dict[str, deque[Claimed]] = defaultdict(deque)
        for row in batch:
            self.queues[row.target].append(row)
        self.pacer = pacer
        self.interval = interval
        self.stats = DeliveryStats()
        self._heap: list[tuple[float, int, str]] = [
            (pacer.ready_at(target, interval), seq, target)
            for seq, target in enumerate(self.queues)
        ]
        heapq.heapify(self._heap)
        self._counter = len(self._heap)
        self._busy = 0
        self._cond = threading.Condition()

    def __len__(self) -> int:
        return len(self.queues)

    def take(self) -> str | None:
        """The next target whose turn has come, waiting for one; None when all are done."""
        with self._cond:
            while True:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        self._busy += 1
                        return heapq.heappop(self._heap)[2]
                    self._cond.wait(timeout=wait)
                elif self._busy == 0:
                    return None
                else:
                    self._cond.wait()

    def put_back(self, target: str, *, posted: bool, stats: DeliveryStats) -> None:
        """Done with one turn of ``target``: count ``stats``, and requeue the lane if rows
        are left (paced from Slack's answer if a post was made, else at once)."""
        with self._cond:
            self.stats.add(stats)
            self._busy -= 1
            if self.queues[target]:
                ready = self.pacer.ready_at(target, self.interval) if posted else 0
                self._counter += 1
                heapq.heappush(self._heap, (ready, self._counter, target))
            self._cond.notify_all()
