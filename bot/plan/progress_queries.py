"""The SQL of saving progress in batches: the write lock, stored keys, the entries, the stamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import Action, Member, Objective, ProgressEntry

_ENTRY = cast(Table, ProgressEntry.__table__)
_OBJECTIVE = cast(Table, Objective.__table__)
_ACTION = cast(Table, Action.__table__)

# Changes no row, but takes SQLite's write lock (and the process's write gate) now, so
# everything read after it in the transaction stays as read until the commit.
_TAKE_WRITE_LOCK = text("UPDATE objective SET id = id WHERE 1 = 0")
_DATA_VERSION = text("PRAGMA data_version")
# Batches are saved on SQLite only (bot.plan.progress_batch).
_INSERT_MEMBERS = sqlite_insert(cast(Table, Member.__table__)).on_conflict_do_nothing(
    index_elements=["partnership_id", "slack_user_id"]
)

_INSERT_ENTRIES = insert(_ENTRY).returning(_ENTRY.c.id, sort_by_parameter_order=True)
# Every row keyed: one multi-row statement, each id told apart by its row's request key
# (SQLite returns the rows of a multi-row insert in no promised order).
_INSERT_KEYED = insert(_ENTRY).returning(_ENTRY.c.id, _ENTRY.c.request_key)

_STORED_KEYS = select(  # built once, on the table: no ORM work per batch
    _ENTRY.c.request_key,
    _ENTRY.c.id,
    _ENTRY.c.objective_id,
    _ENTRY.c.done,
    _ENTRY.c.created_at,
).where(_ENTRY.c.request_key.in_(bindparam("keys", expanding=True)))

_STAMP_OBJECTIVE = (
    update(_OBJECTIVE)
    .where(_OBJECTIVE.c.id == bindparam("objective"))
    .values(
        rag=func.coalesce(bindparam("new_rag", type_=_OBJECTIVE.c.rag.type), _OBJECTIVE.c.rag),
        updated_at=bindparam("stamp", type_=_OBJECTIVE.c.updated_at.type),
    )
)


# The objective's only action moves with it (its RAG is the objective's: see
# bot.plan.actions.roll_up; batches take objectives with one action only).
_STAMP_ACTION = (
    update(_ACTION)
    .where(_ACTION.c.objective_id == bindparam("objective"))
    .values(
        rag=func.coalesce(bindparam("new_rag", type_=_ACTION.c.rag.type), _ACTION.c.rag),
        updated_at=bindparam("stamp", type_=_ACTION.c.updated_at.type),
    )
)


def take_write_lock(session: Session) -> None:
    """Begin writing now (SQLite): no other connection can write until this
    transaction ends."""
    session.execute(_TAKE_WRITE_LOCK)


def data_version(session: Session) -> int:
    """SQLite's ``PRAGMA data_version`` on this session's connection: it moves whenever
    another connection (in this process or any other) commits a change to the file."""
    return int(session.execute(_DATA_VERSION).scalar_one())


def stored_keys(
    session: Session, keys: Sequence[str]
) -> dict[str, tuple[int, int, bool, dt.datetime]]:
    """Request key -> (entry id, objective id, done, logged at) of the entry already
    stored with it, for those of ``keys`` found (the key is unique across the table)."""
    if not keys:
        return {}
    rows = session.execute(_STORED_KEYS, {"keys": list(keys)}).all()
    return {key: (eid, oid, bool(done), at) for key, eid, oid, done, at in rows if key is not None}


def insert_entries(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert progress entries (column values, in order); their ids, in the same order."""
    if not rows:
        return []
    keys = [r.get("request_key") for r in rows]
    if None not in keys and len(set(keys)) == len(keys):
        by_key = {key: eid for eid, key in session.execute(_INSERT_KEYED, list(rows)).all()}
        return [by_key[key] for key in keys]
    found = session.execute(_INSERT_ENTRIES, [dict(r) for r in rows]).all()
    return [row[0] for row in found]


def insert_members(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Make the member rows of people new to the partnership (column values); a row
    another connection has just made for the same person is kept as it is. One
    statement of many rows, not one step per person."""
    if rows:
        session.execute(_INSERT_MEMBERS.values([dict(r) for r in rows]))


def stamp_objectives(
    session: Session, changes: Sequence[tuple[int, str | None, dt.datetime]]
) -> None:
    """For each (objective id, new RAG or None to keep it, stamp), in order: set the RAG
    when given and ``updated_at`` to the stamp, on the objective and its one action.

    Applied in order, an objective's changes leave its last RAG given and its last
    stamp, so each objective is written once with those: a burst of updates to one
    objective is one row changed, not one statement step per update (each step lets
    go of the interpreter while SQLite works, and the batch waits to have it back)."""
    last: dict[int, tuple[str | None, dt.datetime]] = {}
    for oid, rag, stamp in changes:
        kept = last.get(oid)
        last[oid] = (rag if rag is not None else (kept[0] if kept else None), stamp)
    if last:
        params = [
            {"objective": oid, "new_rag": rag, "stamp": stamp} for oid, (rag, stamp) in last.items()
        ]
        session.execute(_STAMP_OBJECTIVE, params)
        session.execute(_STAMP_ACTION, params)
