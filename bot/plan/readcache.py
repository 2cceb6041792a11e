"""The per-process snapshot of the current plan and the rule for when it is checked.

Reading 500 objectives with their schedules, owners and meetings through the ORM
costs tens of milliseconds; the plan changes a few times a day. :func:`plan_snapshot`
keeps one :class:`PlanSnapshot` (plain frozen dataclasses, no ORM objects) per
(database, partnership, plan year) and reuses it while the fingerprint
(``bot.plan.snapshot_queries.plan_fingerprint``), one cheap aggregate query, returns
the same value. That query runs at most once per :data:`TTL_SECONDS` (a monotonic
clock) per snapshot, by one reader while the others keep the snapshot they have, and at
once after any write committed in this process (every ORM commit that flushed bumps
:func:`generation`, except one that changed only outbox rows, which no cached view
reads), so a member who logs progress and then asks what is due always sees their
update; changes made by another process are seen within :data:`TTL_SECONDS`. A batch
of RAG and note updates saved under the write lock
(:mod:`bot.plan.progress_batch`) installs the snapshot it committed instead
(:func:`progress_logged`), and moves only the snapshot's generation: caches of things
progress cannot change (members, the partnership) stay valid.

The fingerprint changes whenever anything the snapshot holds changes:

- objectives added or removed (count), or changed: every write path in ``bot.plan``
  and ``bot.planfiles.importer`` stamps ``Objective.updated_at`` with :func:`touch`, which is
  strictly later than any stamp before it, so even a frozen clock moves it on;
- progress logged (``max(progress_entry.id)``), which is how RAG, done items and
  closed objectives change;
- schedule items, owners or linked meetings added or removed (count and max id).

A session that has written in its current transaction reads straight from the
database and never fills the cache: its view includes changes that may yet be
rolled back, and a rolled-back id can be reused by the next writer.

The SQL (the fingerprint and the column reads) is in ``bot.plan.snapshot_queries``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from bot.plan import snapshot_queries
from bot.plan.snapshot import ActionSnap, ItemSnap, MeetingSnap, ObjectiveSnap, OwnerSnap
from bot.plan.snapshot_queries import Fingerprint
from store.models import Delivery, Objective

T = TypeVar("T")

TTL_SECONDS = 0.5  # how long a validated snapshot is trusted without asking the database
MEMO_LIMIT = 32  # derived views kept per snapshot (one per day and horizon asked for)
_WROTE = "csp_plan_wrote"


@dataclass(frozen=True)
class PlanSnapshot:
    """The current plan year of one partnership, as of one fingerprint."""

    partnership_id: int
    plan_year: int
    fingerprint: Fingerprint
    objectives: tuple[ObjectiveSnap, ...]
    last_progress: dict[int, dt.datetime]
    _memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """A view derived from this snapshot (e.g. what is due from a given day),
        computed once. ``build`` must be pure: the snapshot never changes."""
        with self._lock:
            if key in self._memo:
                found: T = self._memo[key]
                return found
        value = build()
        with self._lock:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = value
        return value


_CacheKey = tuple[int, int, int]
Validity = tuple[float, int]  # (monotonic time it was checked, write generation then)

# The clock for TTL checks; tests replace it to step time.
monotonic: Callable[[], float] = time.monotonic
_generation = itertools.count(1)
_current_generation = 0
# Moves on with every write that can change a snapshot: every write that
# :func:`invalidate` counts, and progress saved in batches (:func:`progress_logged`),
# which changes only the plan, so other caches keyed on :func:`validity` stay valid.
_plan_generation = 0
_cache: dict[_CacheKey, PlanSnapshot] = {}
_checked: dict[_CacheKey, Validity] = {}
_cache_lock = threading.Lock()
_installed = threading.Condition(_cache_lock)
_committing = 0  # batches of progress between their commit and installing their snapshot
_loaders: dict[tuple[int, int, int], threading.Lock] = {}  # one plan read at a time per key
_checkers: dict[tuple[int, int, int], threading.Lock] = {}  # one TTL check at a time per key
_last_read: dict[tuple[int, int, int], PlanSnapshot] = {}  # the latest read, for those waiting
# Engines are told apart by a token, not id(): ids are reused once an engine is gone.
_engine_tokens: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_next_token = itertools.count(1)
CACHE_LIMIT = 64


def _engine_token(session: Session) -> int:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _cache_lock:
        found = _engine_tokens.get(engine)
        if found is None:
            found = _engine_tokens[engine] = next(_next_token)
        return found


# Rows no cached view reads: the outbox's. A transaction that changed only these (the
# announcer's and the sweep's claims and results) leaves every cache valid.
_UNSEEN: tuple[type, ...] = (Delivery,)


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, _context: Any) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]  # as flushed, still listed
    if not changed or not all(isinstance(obj, _UNSEEN) for obj in changed):
        session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_WROTE, None):
        invalidate()


@event.listens_for(Session, "after_soft_rollback")
def _forget_write(session: Session, *_args: Any) -> None:
    session.info.pop(_WROTE, None)


def generation() -> int:
    """A number that moves on whenever a write commits in this process (except a batch
    of progress, which moves only the snapshot's)."""
    return _current_generation


def invalidate() -> None:
    """Make every cached view in this process check the database on its next use."""
    global _current_generation, _plan_generation
    with _cache_lock:
        _current_generation = next(_generation)
        _plan_generation = _current_generation


def _plan_checked() -> Validity:
    return (monotonic(), _plan_generation)


def _plan_still_valid(checked: Validity) -> bool:
    at, gen = checked
    return gen == _plan_generation and 0 <= monotonic() - at < TTL_SECONDS


def validity() -> Validity:
    """Take this before reading what will be cached; :func:`still_valid` later says
    whether the cached value may still be used without asking the database."""
    return (monotonic(), _current_generation)


def still_valid(checked: Validity) -> bool:
    """Whether a value read at ``checked`` is under :data:`TTL_SECONDS` old and no write
    has committed in this process since."""
    at, gen = checked
    return gen == _current_generation and 0 <= monotonic() - at < TTL_SECONDS


def has_pending_writes(session: Session) -> bool:
    """Whether this session's transaction holds changes not yet committed."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def next_stamp(session: Session, partnership_id: int, now: dt.datetime) -> dt.datetime:
    """``now``, or just after the latest ``Objective.updated_at`` of the partnership when
    the clock has not moved past it. One query; it does not flush."""
    with session.no_autoflush:
        latest = snapshot_queries.latest_stamp(session, partnership_id)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    return now if latest is None or now > latest else latest + dt.timedelta(microseconds=1)


def touch(session: Session, objective: Objective, now: dt.datetime) -> None:
    """Stamp ``objective`` as changed: ``now``, or just after the latest stamp of its
    partnership when the clock has not moved past it (so the fingerprint always moves).
    Cached views in this process are checked again on their next use."""
    objective.updated_at = next_stamp(session, objective.partnership_id, now)
    invalidate()


def load_snapshot(
    session: Session, partnership_id: int, plan_year: int, fingerprint: Fingerprint
) -> PlanSnapshot:
    """Read the plan with a handful of column queries (no ORM objects)."""
    rows = snapshot_queries.objective_rows(session, partnership_id, plan_year)
    ids = [row[0] for row in rows]
    owners: dict[int, list[OwnerSnap]] = {i: [] for i in ids}
    items: dict[int, list[ItemSnap]] = {i: [] for i in ids}
    meetings: dict[int, list[MeetingSnap]] = {i: [] for i in ids}
    actions: dict[int, list[ActionSnap]] = {i: [] for i in ids}
    for oid, label, user, aid in snapshot_queries.owner_rows(session, partnership_id, plan_year):
        owners[oid].append(OwnerSnap(label, user, aid))
    for row in snapshot_queries.action_rows(session, partnership_id, plan_year):
        oid, aid, position, text, status, rag, needs, timescale = row
        actions[oid].append(ActionSnap(aid, position, text, status, rag, bool(needs), timescale))
    for (
        oid,
        kind,
        due_on,
        body,
        month_only,
        rrule,
        source,
        done,
        made,
        aid,
    ) in snapshot_queries.item_rows(session, partnership_id, plan_year):
        items[oid].append(
            ItemSnap(kind, due_on, body, bool(month_only), rrule, source, done, made, aid)
        )
    for mid, linked, name, month, when in snapshot_queries.meeting_rows(
        session, partnership_id, plan_year
    ):
        if linked is not None:
            meetings[linked].append(MeetingSnap(mid, name, month, when))
    last: dict[int, dt.datetime] = {}
    for oid, at in snapshot_queries.last_progress_rows(session, partnership_id, plan_year):
        if at is not None:
            last[oid] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    objectives = tuple(
        ObjectiveSnap(
            id=oid,
            title=title,
            rag=rag,
            status=status,
            needs_dating=bool(needs_dating),
            timescale_text=timescale_text,
            owners=tuple(owners[oid]),
            schedule=tuple(items[oid]),
            meetings=tuple(meetings[oid]),
            actions=tuple(actions[oid]),
        )
        for oid, title, rag, status, needs_dating, timescale_text in rows
    )
    return PlanSnapshot(partnership_id, plan_year, fingerprint, objectives, last)


def plan_snapshot(
    session: Session,
    partnership_id: int,
    plan_year: int,
    *,
    verify: bool = False,
    fingerprint: Fingerprint | None = None,
) -> PlanSnapshot:
    """The plan as this session sees it: the cached snapshot while it was checked under
    :data:`TTL_SECONDS` ago with no write committed in this process since, or when its
    fingerprint still matches; else a fresh one (cached unless this session has
    uncommitted writes). ``verify`` always checks the fingerprint (``fingerprint``, when
    the caller has just read it): a writer holding the write lock gets the plan exactly
    as stored."""
    if has_pending_writes(session):
        session.flush()
        fingerprint = snapshot_queries.plan_fingerprint(session, partnership_id, plan_year)
        return load_snapshot(session, partnership_id, plan_year, fingerprint)
    key = (_engine_token(session), partnership_id, plan_year)
    checked = _plan_checked()  # taken before the query: a commit during it forces a re-check
    with _cache_lock:
        cached = _cache.get(key)
        last = _checked.get(key)
    if not verify and cached is not None and last is not None and _plan_still_valid(last):
        return cached
    if not verify and cached is not None and last is not None and last[1] == _plan_generation:
        # Only its time ran out: one reader asks the database again while the others
        # keep the snapshot they had (as stale as the TTL already allows, no more).
        checking = _checker(key)
        if not checking.acquire(blocking=False):
            return cached
        try:
            return _checked_snapshot(session, key, cached, checked)
        finally:
            checking.release()
    return _checked_snapshot(session, key, cached, checked, verify=verify, fingerprint=fingerprint)


def _checked_snapshot(
    session: Session,
    key: _CacheKey,
    cached: PlanSnapshot | None,
    checked: Validity,
    *,
    verify: bool = False,
    fingerprint: Fingerprint | None = None,
) -> PlanSnapshot:
    """The snapshot after asking the database for the fingerprint (unless ``verify``
    gave it): ``cached`` or the latest installed one when it matches, else read."""
    _, partnership_id, plan_year = key
    if fingerprint is None or not verify:
        fingerprint = snapshot_queries.plan_fingerprint(session, partnership_id, plan_year)
    with _cache_lock:
        # A batch of progress committed but not yet installed: its snapshot is moments away.
        _installed.wait_for(lambda: _committing == 0, timeout=0.1)
        latest = _cache.get(key)
    for known in (latest, cached):
        if known is not None and known.fingerprint == fingerprint:
            with _cache_lock:
                if _cache.get(key) is known and checked[1] == _plan_generation:
                    _checked[key] = checked
            return known
    with _loader(key):  # one thread reads the plan; the others take what it read
        with _cache_lock:
            read = (_cache.get(key), _last_read.get(key))
        for known in read:  # the same fingerprint as just read: the plan as it stands
            if known is not None and known.fingerprint == fingerprint:
                return known
        fresh = load_snapshot(session, partnership_id, plan_year, fingerprint)
        with _cache_lock:
            _last_read[key] = fresh
            if checked[1] == _plan_generation:  # else a write committed meanwhile: not kept
                if len(_cache) >= CACHE_LIMIT:
                    _cache.clear()
                    _checked.clear()
                    _last_read.clear()
                    _last_read[key] = fresh
                _cache[key] = fresh
                _checked[key] = checked
    return fresh


def _lock_in(locks: dict[_CacheKey, threading.Lock], key: _CacheKey) -> threading.Lock:
    with _cache_lock:
        found = locks.get(key)
        if found is None:
            found = locks[key] = threading.Lock()
        return found


def _checker(key: _CacheKey) -> threading.Lock:
    """Held by the one reader checking ``key``'s snapshot once its time ran out."""
    return _lock_in(_checkers, key)


def _loader(key: _CacheKey) -> threading.Lock:
    """Held by the one reader reading ``key``'s plan."""
    return _lock_in(_loaders, key)


@contextmanager
def progress_committing() -> Iterator[None]:
    """Around a batch's commit and :func:`progress_logged`: a reader that meanwhile finds
    the new fingerprint waits for the new snapshot instead of reloading the plan."""
    global _committing
    with _cache_lock:
        _committing += 1
    try:
        yield
    finally:
        with _cache_lock:
            _committing -= 1
            _installed.notify_all()


# Views derived from a snapshot that a RAG or note update leaves as they were.
_KEPT_BY_PROGRESS = frozenset({"progress_facts", "choices", "progress_summary"})


def progress_logged(
    session: Session,
    base: PlanSnapshot,
    fingerprint: Fingerprint,
    rags: Mapping[int, str],
    logged_at: Mapping[int, dt.datetime],
) -> PlanSnapshot:
    """The snapshot after a batch of RAG or note updates (no "done") was committed on
    top of ``base``: ``base`` with the objectives' new RAGs and latest progress times,
    under ``fingerprint`` (read in the batch's transaction after its writes). The
    caller held the write lock from before it read ``base`` (verified) until the
    commit, so nothing else changed in between, and it is installed as this process's
    snapshot; caches that progress cannot change (members, the partnership) stay
    valid. (A batch may also have made members of people new to the partnership: new
    rows, which no cache holds; nothing may cache that someone is not a member.)"""
    global _plan_generation
    objectives = tuple(
        replace(o, rag=rags[o.id], actions=tuple(replace(a, rag=rags[o.id]) for a in o.actions))
        if o.id in rags
        else o
        for o in base.objectives
    )
    last = dict(base.last_progress)
    for oid, at in logged_at.items():
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        last[oid] = max(at, last.get(oid, at))
    after = PlanSnapshot(base.partnership_id, base.plan_year, fingerprint, objectives, last)
    with base._lock:
        kept = {
            k: v
            for k, v in base._memo.items()
            if isinstance(k, tuple) and k[:1] and k[0] in _KEPT_BY_PROGRESS
        }
    after._memo.update(kept)
    key = (_engine_token(session), base.partnership_id, base.plan_year)
    with _cache_lock:
        _plan_generation = next(_generation)
        if len(_cache) >= CACHE_LIMIT:
            _cache.clear()
            _checked.clear()
        # The newest plan there is: nothing could be committed between ``base`` and it.
        _cache[key] = after
        _checked[key] = (monotonic(), _plan_generation)
    return after


def clear() -> None:
    """Forget every snapshot (tests; after restoring a database under a running process)."""
    with _cache_lock:
        _cache.clear()
        _checked.clear()
        _last_read.clear()
