"""Saving RAG and note updates in batches: one transaction, the plan snapshot kept current.

Many people logging progress at once each cost a transaction, a handful of ORM loads
and a reload of the plan snapshot for whoever reads next. A :class:`ProgressBatch`
saves several updates (RAG or note, never "done") in one transaction on a SQLite file
whose writers take turns (:func:`store.db.has_write_gate`): it takes the write lock
first, reads the plan snapshot as stored (verified by its fingerprint), answers each
update from the snapshot's objective (as :func:`bot.plan.progress.log_progress_result`
would from the ORM's), inserts the entries and stamps the objectives with a few
statements, and after the commit installs the snapshot with the new RAGs
(:func:`bot.plan.readcache.progress_logged`) instead of making the next reader reload
it. Each update is saved in the order given, as if one after another.

An update whose request key is already stored (or claimed earlier in the batch) is
not written: it is answered as :func:`bot.plan.progress.repeated_progress` would
(``repeated`` set), or is ``REPEATED`` when the first was a "done" or is not in this
year's plan. One whose objective is not in this plan year's snapshot, or that says
nothing, is ``ELSEWHERE``. The caller answers those two the one-at-a-time way, which
has the kind answers for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.plan import readcache
from bot.plan.models import ObjectiveSummary, ProgressFacts
from bot.plan.progress import ProgressResult, _open_label
from bot.plan.progress_queries import (
    data_version,
    insert_entries,
    insert_members,
    stamp_objectives,
    stored_keys,
    take_write_lock,
)
from bot.plan.queries import member_facts
from bot.plan.reading import snapshot_facts, summarise
from bot.plan.schedule import DATED_KINDS, partnership_calendar, reminder_policy
from bot.plan.snapshot import ObjectiveSnap
from bot.plan.snapshot_queries import Fingerprint, after_progress, fingerprint_and_stamp
from bot.plan.years import local_today
from store.models import Partnership, Rag, Role

Skipped = Literal["repeated", "elsewhere"]
REPEATED: Skipped = "repeated"
ELSEWHERE: Skipped = "elsewhere"


@dataclass(frozen=True)
class Update:
    """One RAG or note update, as a person sent it."""

    objective_id: int
    slack_user_id: str | None
    author: str
    rag: Rag | None
    note: str
    now: dt.datetime
    as_of: dt.date | None = None
    evidence_url: str | None = None
    keys: tuple[str, ...] = ()  # the request's keys; the first is stored
    new_member: bool = False  # the person has no member row yet: it is made with the entry
    display_name: str | None = None  # the name their request gave (for that row)


@dataclass(frozen=True)
class Left:
    """What a committed batch left, for the next batch on the same connection: SQLite's
    ``data_version`` as that connection read it under the write lock, the plan as the
    batch left it, and the latest stamp then stored."""

    data_version: int
    partnership_id: int
    plan_year: int
    snap: readcache.PlanSnapshot
    latest: dt.datetime | None


def prepare(session: Session, partnership: Partnership) -> None:
    """Before serving: read what the first batch reads before it writes (the plan's
    progress facts, kept with its snapshot; its stored keys; who is a member), so the
    first people to log progress do not pay for working it out and for preparing each
    statement the first time. Reads only."""
    snap = readcache.plan_snapshot(session, partnership.id, partnership.plan_year)
    snapshot_facts(session, partnership, snap)
    snap.memo(("by_id",), lambda: {o.id: o for o in snap.objectives})
    data_version(session)
    fingerprint_and_stamp(session, partnership.id, partnership.plan_year)
    stored_keys(session, [""])
    member_facts(session, partnership.id, [""])


class ProgressBatch:
    """One transaction of updates: made once the session may write (it takes the write
    lock at once), then :meth:`save`, the caller's other writes and commit, then
    :meth:`committed`.

    ``left`` is what the previous batch committed on this session's connection left
    (see :meth:`committed`): when SQLite says no other connection has committed since
    (``PRAGMA data_version`` unchanged), the database is exactly as that batch left it,
    so its plan is used without reading the fingerprint again."""

    def __init__(
        self, session: Session, partnership: Partnership, *, left: Left | None = None
    ) -> None:
        self.session = session
        self.partnership = partnership
        take_write_lock(session)
        self.data_version = data_version(session)
        if (
            left is not None
            and left.data_version == self.data_version
            and (left.partnership_id, left.plan_year) == (partnership.id, partnership.plan_year)
        ):
            self._before, self._latest = left.snap.fingerprint, left.latest
            self.snap = left.snap
        else:
            self._before, self._latest = fingerprint_and_stamp(
                session, partnership.id, partnership.plan_year
            )
            self.snap = readcache.plan_snapshot(
                session,
                partnership.id,
                partnership.plan_year,
                verify=True,
                fingerprint=self._before,
            )
        self._rags: dict[int, str] = {}
        self._logged: dict[int, dt.datetime] = {}
        self._fingerprint: Fingerprint | None = None
        self._objectives: dict[int, ObjectiveSnap] = {}
        self._facts = ProgressFacts({}, {}, partnership.timezone)

    def save(self, updates: Sequence[Update]) -> list[ProgressResult | Skipped]:
        """Write each update that can be (see the module's note); what each did. A
        repeat of a RAG or note update on this year's plan is answered here, like
        :func:`bot.plan.progress.repeated_progress` (``repeated`` set, nothing written)."""
        session, partnership, snap = self.session, self.partnership, self.snap
        stored = stored_keys(session, [k for u in updates for k in u.keys])
        claimed: dict[str, int] = {}  # key -> position in ``outcomes`` of the update storing it
        self._objectives = snap.memo(("by_id",), lambda: {o.id: o for o in snap.objectives})
        self._facts = snapshot_facts(session, partnership, snap)
        latest = self._latest
        if latest is not None and latest.tzinfo is None:
            latest = latest.replace(tzinfo=dt.UTC)
        outcomes: list[ProgressResult | Skipped] = []
        rows: list[dict[str, Any]] = []
        stamps: list[tuple[int, str | None, dt.datetime]] = []
        written: list[int] = []  # positions in ``outcomes`` of the rows
        again: list[tuple[int, int]] = []  # (position, position of the update it repeats)
        for update in updates:
            found = self._objectives.get(update.objective_id)
            note = update.note.strip()
            earlier = next((stored[k] for k in update.keys if k in stored), None)
            first = next((claimed[k] for k in update.keys if k in claimed), None)
            if earlier is not None:
                entry_id, objective_id, done, at = earlier
                answer = None if done else self._result(objective_id, update.now, at)
                outcomes.append(
                    REPEATED
                    if answer is None
                    else replace(answer, repeated=True, entry_id=entry_id, entry_done=False)
                )
                continue
            if first is not None:
                again.append((len(outcomes), first))
                outcomes.append(REPEATED)
                continue
            if found is None or len(found.actions) != 1 or (not note and update.rag is None):
                # An objective with several actions: the one-at-a-time way says which.
                outcomes.append(ELSEWHERE)
                continue
            if update.keys:
                claimed[update.keys[0]] = len(outcomes)
            rag = update.rag.value if update.rag is not None else None
            if rag is not None:
                self._rags[found.id] = rag
            # As readcache.next_stamp: now, or just after the latest stamp.
            later = latest is None or update.now > latest
            stamp = update.now if later or latest is None else latest + dt.timedelta(microseconds=1)
            latest = stamp
            stamps.append((found.id, rag, stamp))
            self._logged[found.id] = max(update.now, self._logged.get(found.id, update.now))
            result = self._result(found.id, update.now, update.now, fresh=True)
            assert result is not None
            written.append(len(outcomes))
            outcomes.append(result)
            rows.append(
                {
                    "objective_id": found.id,
                    "action_id": found.actions[0].id,
                    "slack_user_id": update.slack_user_id,
                    "author": update.author,
                    "created_at": update.now,
                    "rag": rag,
                    "done": False,
                    "note": note,
                    "as_of": update.as_of,
                    "evidence_url": update.evidence_url,
                    "request_key": update.keys[0] if update.keys else None,
                }
            )
        writing = set(written)  # an update's position is its outcome's
        newcomers = {
            u.slack_user_id: u
            for position, u in enumerate(updates)
            if u.new_member and u.slack_user_id and position in writing
        }
        insert_members(  # as bot.plan.members.resolve_actor makes them, in this transaction
            session,
            [
                {
                    "partnership_id": partnership.id,
                    "slack_user_id": user,
                    "display_name": u.display_name,
                    "role": Role.MEMBER,
                    "safeguarding_lead": False,
                    "created_at": u.now,
                }
                for user, u in newcomers.items()
            ],
        )
        ids = insert_entries(session, rows)
        stamp_objectives(session, stamps)
        self._latest = latest  # what the stored latest stamp is once this batch commits
        for position, entry_id in zip(written, ids, strict=True):
            saved = outcomes[position]
            assert not isinstance(saved, str)
            outcomes[position] = replace(saved, entry_id=entry_id)
        for position, first in again:  # the same request twice in this batch
            saved, update = outcomes[first], updates[first]
            assert not isinstance(saved, str)
            answer = self._result(updates[first].objective_id, updates[position].now, update.now)
            if answer is not None:
                outcomes[position] = replace(
                    answer, repeated=True, entry_id=saved.entry_id, entry_done=False
                )
        if ids and latest is not None:
            self._fingerprint = after_progress(self._before, latest, max(ids))
        return outcomes

    def _result(
        self, objective_id: int, now: dt.datetime, logged_at: dt.datetime, *, fresh: bool = False
    ) -> ProgressResult | None:
        """The objective as it stands at this point of the batch, with progress last
        logged at ``logged_at``: as :func:`bot.plan.progress.log_progress_result` answers
        (``fresh``) or as :func:`bot.plan.progress.repeated_progress` does (with the
        partnership's working calendar). None when it is not in this year's plan."""
        partnership, found = self.partnership, self._objectives.get(objective_id)
        if found is None:
            return None
        if logged_at.tzinfo is None:
            logged_at = logged_at.replace(tzinfo=dt.UTC)
        today = local_today(partnership, now)
        policy = reminder_policy(partnership)
        cal = None if fresh else partnership_calendar(partnership)
        # What the schedule says (next date, overdue) depends on neither the RAG nor the
        # time of the update, and is the costly part: worked out once per snapshot.
        bases = self.snap.memo(
            ("progress_summary", today, policy, cal), dict[int, ObjectiveSummary]
        )
        base = bases.get(found.id)
        if base is None:
            done_days = self._facts.done_days.get(found.id, ())
            base = bases[found.id] = summarise(
                found, today, None, done_days=done_days, policy=policy, cal=cal
            )
        rag = self._rags.get(found.id, found.rag)
        still_open = tuple(
            _open_label(item, today)
            for item in sorted(
                (
                    i
                    for i in found.schedule
                    if i.kind in DATED_KINDS and i.due_on is not None and i.done_at is None
                ),
                key=lambda i: i.due_on or dt.date.max,
            )
        )
        summary = replace(base, rag=rag, last_progress_at=logged_at)
        return ProgressResult(summary=summary, still_open=still_open)

    def committed(self) -> Left:
        """After the commit: the snapshot with this batch's changes becomes the process's.
        What the batch left, for the next one on the same connection."""
        snap = self.snap
        if self._fingerprint is not None and (self._rags or self._logged):
            snap = readcache.progress_logged(
                self.session, self.snap, self._fingerprint, self._rags, self._logged
            )
        partnership = self.partnership
        return Left(self.data_version, partnership.id, partnership.plan_year, snap, self._latest)
