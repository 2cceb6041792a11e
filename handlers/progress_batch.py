"""Group commit for typed RAG and note updates: saved together, each acked after the commit.

When many people log progress at once, each request's own transaction (and the ORM
work around it) is what limits how many are answered a second. Here a request hands
its update to the context's :class:`ProgressWriter` and waits. The first waiting
request with no batch in progress leads: it takes every update queued so far, saves
them in one transaction (:class:`bot.plan.progress_batch.ProgressBatch`, with their
channel lines joined to the channel's pending outbox row), commits, and wakes the
others with what each saved; updates queued meanwhile make the next batch, led by
one of their requests. Nothing is acked before its entry is committed.

Batches are saved one at a time on the writer's own connection, so each can tell from
SQLite whether anything else was committed since the one before
(:class:`bot.plan.progress_batch.Left`). A person new to the partnership is made a
member by the batch that saves their update, not by a transaction of their own first.

The leader's writes wait no longer than its request's budget
(:func:`store.db.bounded_waits`): if the lock cannot be had in time, the whole batch
is rolled back and every request in it is told that nothing was saved. A repeated
request (its key already stored) is answered from what the first one saved; one the
batch cannot answer (an objective not in this year's plan, an update saying nothing, a
repeat of a "done") is answered the one-at-a-time way. Only
SQLite files, whose writers take turns anyway (:func:`store.db.has_write_gate`), are
batched; on PostgreSQL each request saves its own.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy import Connection

from bot.context import AppContext
from bot.notices.progress_updates import queue_progress_updates
from bot.plan import readcache
from bot.plan.progress import ProgressResult
from bot.plan.progress_batch import ELSEWHERE, REPEATED, Left, ProgressBatch, Skipped, Update
from bot.slack.progress import (
    build_progress_confirmation_blocks,
    progress_channel_item,
    progress_confirmation_text,
)
from handlers.announce import wake_announcer
from handlers.progress import repeated_answer
from handlers.uow import Unit
from store.db import DatabaseBusy, has_write_gate, holds_write_gate, is_database_busy
from store.models import Partnership, Rag

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    partnership: Partnership
    update: Update
    user_id: str
    rag: str | None
    outcome: ProgressResult | Skipped | None = None
    error: BaseException | None = None
    finished: bool = False
    # Set when the job's batch has ended, or when the job is to lead the next batch.
    woken: threading.Event = field(default_factory=threading.Event)


class ProgressWriter:
    """Saves queued updates in batches, one batch at a time (see the module's note).

    A batch's leader wakes only its batch's requests when it ends, and the first
    request still queued, which leads the next batch."""

    def __init__(self, ctx: AppContext) -> None:
        # Held weakly: the writer is kept per context (``writer_for``) and must not keep
        # its context, nor so its engine and database file, alive.
        self._ctx = weakref.ref(ctx)
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._writing = False
        # Batches are saved on a connection of their own, one batch at a time, so each can
        # tell from SQLite whether anything else was committed since the last one.
        self._conn: Connection | None = None
        self._left: Left | None = None

    @property
    def ctx(self) -> AppContext:
        ctx = self._ctx()
        if ctx is None:
            raise RuntimeError("the app this writer saved progress for has gone")
        return ctx

    def save(self, job: _Job, client: WebClient) -> ProgressResult | Skipped:
        """Queue ``job`` and wait until a batch holding it is committed or failed."""
        with self._lock:
            self._queue.append(job)
            leads = not self._writing
            self._writing = True
        if not leads:
            job.woken.wait()
        if not job.finished:  # this request leads a batch: every queued update like it
            with self._lock:
                pid = job.partnership.id
                batch = [j for j in self._queue if j.partnership.id == pid]
                self._queue = [j for j in self._queue if j.partnership.id != pid]
            try:
                self._write(batch, client)
            except BaseException as error:
                if all(other.outcome is not None for other in batch):
                    # Committed: what failed afterwards is not the requests' to hear about.
                    log.exception("a step after saving a batch of progress failed")
                else:
                    for other in batch:
                        other.outcome = None
                        other.error = error if other is job else _follower_error(error)
            finally:
                for other in batch:
                    other.finished = True
                with self._lock:
                    following = self._queue[0] if self._queue else None
                    self._writing = following is not None
                for other in batch:
                    other.woken.set()
                if following is not None:
                    following.woken.set()
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        return job.outcome

    def _write(self, batch: Sequence[_Job], client: WebClient) -> None:
        partnership = batch[0].partnership
        settings = self.ctx.settings
        channel = partnership.partnership_channel
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn, self._left = self.ctx.engine.connect(), None
            weakref.finalize(self, self._conn.close)  # back to the pool with the writer
        conn, left, self._left = self._conn, self._left, None  # kept again once committed
        session = self.ctx.sessions(bind=conn)
        session.info["clock"] = self.ctx.clock
        try:
            saving = ProgressBatch(session, partnership, left=left)
            outcomes = saving.save([j.update for j in batch])
            lines: list[tuple[int, str, str, str]] = []
            for job, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, ProgressResult) and not outcome.repeated:
                    assert outcome.entry_id is not None
                    text, status = progress_channel_item(
                        outcome.summary,
                        user_id=job.user_id,
                        note=job.update.note,
                        done=False,
                        rag=job.rag,
                        result=outcome,
                    )
                    fallback = progress_confirmation_text(
                        outcome.summary, done=False, result=outcome
                    )
                    lines.append((outcome.entry_id, text, status, fallback))
            if settings.post_progress_to_channel and channel and lines:
                now = max(j.update.now for j in batch)
                queue_progress_updates(session, partnership.id, channel, lines, now=now)
            with readcache.progress_committing():
                session.commit()
                for job, outcome in zip(batch, outcomes, strict=True):
                    job.outcome = outcome
                # Saved: nothing from here on may fail the requests.
                try:
                    self._left = saving.committed()
                except Exception:
                    log.exception("could not refresh the plan snapshot after saving progress")
                    readcache.invalidate()
        except BaseException:
            try:
                if batch[0].outcome is None:
                    session.rollback()
            finally:
                session.close()
                self._conn = None
                conn.close()  # back to the pool (letting go of the write gate if held)
            raise
        finally:
            session.close()
        if lines:
            wake_announcer(self.ctx, client, channel)


def _follower_error(error: BaseException) -> BaseException:
    """What a request in a failed batch it did not lead raises (the leader's request
    raises ``error`` itself): busy stays busy, anything else is a failure with it as
    the cause."""
    if is_database_busy(error):
        found: BaseException = DatabaseBusy("the batch this update was in could not be saved")
    else:
        found = RuntimeError("the batch this update was in could not be saved")
    found.__cause__ = error
    return found


_WRITERS: weakref.WeakKeyDictionary[AppContext, ProgressWriter] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def writer_for(ctx: AppContext) -> ProgressWriter | None:
    """The context's writer, or None when its database is not batched."""
    if not has_write_gate(ctx.engine):
        return None
    with _LOCK:
        found = _WRITERS.get(ctx)
        if found is None:
            found = _WRITERS[ctx] = ProgressWriter(ctx)
        return found


def batched_reply(
    unit: Unit,
    objective_id: int,
    *,
    rag: str | None,
    note: str,
    keys: Sequence[str],
    client: WebClient,
) -> tuple[str, list[Block]] | None:
    """Save a typed RAG or note update in a batch and answer it: the reply's text and
    blocks, or None when it is to be saved the one-at-a-time way."""
    writer = writer_for(unit.ctx)
    if writer is None:
        return None
    if unit.has_pending_writes() or holds_write_gate(unit.ctx.engine):
        return None  # this request has written already: it holds the lock
    # Someone new is made a member by the batch, with their entry: nothing is written
    # before it, and a burst of newcomers does not queue for the write lock one by one.
    asking = unit.actor_unwritten()
    if asking is None:
        me, new = unit.me, False  # a changed name: written now, the lock let go
        if unit.has_pending_writes() or holds_write_gate(unit.ctx.engine):
            unit.save_member()
    else:
        me, new = asking
    job = _Job(
        partnership=unit.read_partnership,
        update=Update(
            objective_id=objective_id,
            slack_user_id=me.slack_user_id,
            author=me.display_name or me.slack_user_id,
            rag=Rag(rag) if rag else None,
            note=note,
            now=unit.now,
            keys=tuple(keys),
            new_member=new,
            display_name=me.display_name,
        ),
        user_id=me.slack_user_id,
        rag=rag,
    )
    outcome = writer.save(job, client)
    if outcome == REPEATED:
        return repeated_answer(unit, keys, note=note, done=False, rag=rag)
    if outcome == ELSEWHERE or isinstance(outcome, str):
        return None
    if not outcome.repeated:  # a repeat is answered from what the first one saved
        unit.committed = True
        if new:
            unit.member_saved()
    return (
        progress_confirmation_text(outcome.summary, done=False, result=outcome),
        build_progress_confirmation_blocks(
            outcome.summary, note=note, done=False, rag=rag, result=outcome
        ),
    )
