"""The announcer: posts queued channel updates seconds after they are saved, off the listeners.

A handler that queues a channel post (see :mod:`bot.notices.progress_updates`) commits
and calls :meth:`Announcer.poke`; the announcer's own thread then runs the outbox for
those kinds only, paced by the shared :data:`scheduler.delivery.lanes.PACER` (one
message a second per channel, from Slack's last answer) and by each row's
``next_attempt_at`` (a 429's ``Retry-After``). While a channel waits for its turn, the
row stays pending and later updates join it, so a burst becomes one post. A poke naming
a channel whose pending row is already waiting for its turn costs nothing: the thread
is already sleeping until that turn, and the update joined that row.

No listener thread ever waits on Slack for these posts, and nothing here is lost if
the process stops: the rows are in the outbox, and the next sweep (or the next
process's announcer) posts or reconciles them by the usual rules.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from scheduler.delivery.engine import notify_admins
from scheduler.delivery.lanes import PACER, ChannelPacer
from scheduler.delivery.outbox import Outbox
from store.db import session_scope
from store.models import Delivery, DeliveryStatus

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

ANNOUNCED_KINDS: tuple[str, ...] = ("progress_update",)
IDLE_EXIT = 30.0  # seconds with nothing to do before the thread ends (a poke restarts it)
LONGEST_WAIT = 60.0  # never sleep longer than this while rows are waiting


def waiting_rows(
    sessions: sessionmaker[Session], kinds: Sequence[str]
) -> list[tuple[str, dt.datetime, bool]]:
    """(target, when its next row is due, whether all it has are pending rows) for each
    target with rows of ``kinds`` to post: pending rows at ``next_attempt_at``, rows in
    flight when their lease runs out."""
    with session_scope(sessions) as session:
        pending = session.execute(
            select(Delivery.target, func.min(Delivery.next_attempt_at))
            .where(Delivery.kind.in_(list(kinds)), Delivery.status == DeliveryStatus.PENDING)
            .group_by(Delivery.target)
        ).all()
        flying = session.execute(
            select(Delivery.target, func.min(Delivery.claimed_until))
            .where(Delivery.kind.in_(list(kinds)), Delivery.status == DeliveryStatus.IN_FLIGHT)
            .group_by(Delivery.target)
        ).all()
    found: dict[str, dt.datetime] = {}
    for target, at in [*pending, *flying]:
        if at is None:
            continue
        at = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        found[target] = min(found.get(target, at), at)
    in_flight = {target for target, _ in flying}
    return [(target, at, target not in in_flight) for target, at in sorted(found.items())]


class Announcer:
    """One thread per app that posts queued channel updates as soon as each channel may."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        clock: Clock | None = None,
        pacer: ChannelPacer | None = None,
        per_channel_interval: float = 1.0,
        kinds: Sequence[str] = ANNOUNCED_KINDS,
    ) -> None:
        self.sessions = sessions
        self.kinds = tuple(kinds)
        self.pacer = pacer if pacer is not None else PACER
        self.interval = per_channel_interval
        self.outbox = Outbox(
            sessions,
            client,
            clock=clock,
            per_channel_interval=per_channel_interval,
            workers=2,
            pacer=self.pacer,
            on_permanent_failure=notify_admins,
        )
        self._cond = threading.Condition()
        self._poked = False
        self._idle = True
        # Channels whose pending row was waiting for its turn at the last round: a poke
        # for one of them needs no round (the update joined that row, or queued behind it).
        self._paced: frozenset[str] = frozenset()
        self._thread: threading.Thread | None = None

    def poke(self, target: str | None = None) -> None:
        """Something was queued (for ``target``, when given): look now (starts the thread
        if it is not running), unless ``target`` is already waiting for its turn."""
        with self._cond:
            alive = self._thread is not None and self._thread.is_alive()
            if target is not None and target in self._paced and alive:
                return  # the thread wakes for that turn anyway
            self._poked = True
            self._idle = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="csp-announcer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing queued is left to post now (True), or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._idle:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.05))
        return True

    def _loop(self) -> None:
        delay: float | None = 0.0
        while True:
            with self._cond:
                if not self._poked:
                    self._cond.wait(timeout=IDLE_EXIT if delay is None else delay)
                if not self._poked and delay is None:
                    self._idle = True
                    self._thread = None
                    self._cond.notify_all()
                    return  # nothing happened for a while; a poke starts a new thread
                self._poked = False
                # Until this round says again which channels wait for their turn, every
                # poke is heard (a row queued while the round posts is not missed).
                self._paced = frozenset()
            try:
                delay = self._round()
            except Exception:  # the rows stay queued; the sweep posts them
                log.exception("could not post queued channel updates; the next sweep will")
                delay = LONGEST_WAIT
                with self._cond:
                    self._paced = frozenset()
            with self._cond:
                self._idle = delay is None and not self._poked
                if delay is None:
                    self._paced = frozenset()
                self._cond.notify_all()

    def _round(self) -> float | None:
        """Post what may go now; seconds until the next row may go (None: none left)."""
        waiting = waiting_rows(self.sessions, self.kinds)
        if not waiting:
            return None
        now = self.outbox.now()
        mono = time.monotonic()

        def wait_for(target: str, at: dt.datetime) -> float:
            turn = self.pacer.ready_at(target, self.interval) - mono
            return max((at - now).total_seconds(), turn, 0.0)

        if any(wait_for(target, at) <= 0 for target, at, _ in waiting):
            self.outbox.run(kinds=self.kinds, max_rounds=1)
            waiting = waiting_rows(self.sessions, self.kinds)
            if not waiting:
                return None
            now, mono = self.outbox.now(), time.monotonic()
        paced = frozenset(t for t, at, pending in waiting if pending and wait_for(t, at) > 0)
        with self._cond:
            self._paced = paced
        return min(LONGEST_WAIT, max(0.02, min(wait_for(t, at) for t, at, _ in waiting)))
