"""Progress updates in the channel: queued with the entry, a burst coalesced in one post.

Saving an update queues its channel line in the same transaction as the entry, as an
outbox row of kind ``progress_update`` for the channel. While that row is still
pending (waiting for the channel's turn, Slack's one message a second, or a 429's
``Retry-After``), later updates to the same channel join it instead of queueing
behind it, so ten updates in a second become one post ("10 progress updates"), never
ten posts minutes apart. Once the outbox has claimed a row nothing more joins it; the
next update starts a new one. Each update is in exactly one row, and each row is
posted exactly once by the outbox's usual rules (claim, metadata key, reconcile).

A row is joined under the write lock the entry's insert already holds (SQLite) or a
row lock (PostgreSQL), so a claim cannot slip between reading a pending row and adding
to it. A row holds at most :data:`MAX_ITEMS` updates and :data:`MAX_CHARS` characters,
which keeps its post inside Slack's limits (50 blocks, 3,000 characters a section).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, TextClause, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage
from bot.slack.blocks import MAX_MESSAGE_BLOCKS, chunk_lines, context, fit, section
from store.models import Delivery, DeliveryStatus

KIND = "progress_update"
MAX_ITEMS = 100  # updates in one post
MAX_CHARS = 30_000  # characters of update text in one post (Slack keeps 40,000)
# Updates appended by one statement: SQLite takes at most 127 arguments to a function,
# and each update is two of json_set's.
APPEND_AT_ONCE = 50


_Q = TypeVar("_Q", bound=Select[Any])


def _pending(query: _Q, partnership_id: int, channel: str) -> _Q:
    """``query`` narrowed to the channel's newest pending row of this kind, locked."""
    return (
        query.where(
            Delivery.partnership_id == partnership_id,
            Delivery.kind == KIND,
            Delivery.target == channel,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .order_by(Delivery.id.desc())
        .limit(1)
        .with_for_update()
    )


def queue_progress_update(
    session: Session,
    partnership_id: int,
    channel: str,
    *,
    entry_id: int,
    text: str,
    status: str,
    fallback: str,
    now: dt.datetime,
) -> Delivery:
    """Add one update's channel line to the channel's pending row, or start a row.

    Call after the entry is flushed, in the same transaction (see the module's note on
    why that makes the join safe). ``text`` and ``status`` are mrkdwn, already escaped;
    ``fallback`` is the post's notification text when the update goes alone.
    """
    item = {"entry": entry_id, "text": text, "status": status, "fallback": fallback}
    size = len(text) + len(status)
    row = session.scalars(_pending(select(Delivery), partnership_id, channel)).first()
    if row is not None:
        items: list[dict[str, Any]] = list(row.payload.get("items") or [])
        chars = int(row.payload.get("chars") or 0)
        if _has_room(len(items), chars, size):
            row.payload = {**row.payload, "items": [*items, item], "chars": chars + size}
            return row
    row = Delivery(
        partnership_id=partnership_id,
        key=f"progress:{partnership_id}:{entry_id}",
        kind=KIND,
        target=channel,
        occurrence=now,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        payload={"items": [item], "chars": size},
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def queue_progress_updates(
    session: Session,
    partnership_id: int,
    channel: str,
    updates: Sequence[tuple[int, str, str, str]],
    *,
    now: dt.datetime,
) -> None:
    """:func:`queue_progress_update` for several updates at once, in order, on SQLite
    (batches are saved there only): each (entry id, text, status, fallback) joins the
    channel's pending row while it has room, then starts a new one. The pending row is
    read as its id, count and size, and updates are appended by SQLite's JSON functions,
    so a row holding a hundred updates is not decoded and written out again for each
    batch."""
    if not updates:
        return
    if session.get_bind().dialect.name != "sqlite":
        raise RuntimeError("progress updates are queued in batches on SQLite only")
    pending = session.execute(
        _PENDING_SIZE, {"pid": partnership_id, "kind": KIND, "target": channel}
    ).first()
    row_id: int | None = None
    count = chars = 0
    if pending is not None:
        row_id, count, chars = pending[0], int(pending[1] or 0), int(pending[2] or 0)
    joining: list[dict[str, Any]] = []  # appended to the pending row
    fresh: list[list[dict[str, Any]]] = []  # each a new row's items
    fresh_chars: list[int] = []
    for entry_id, text_, status, fallback in updates:
        item = {"entry": entry_id, "text": text_, "status": status, "fallback": fallback}
        size = len(text_) + len(status)
        if not _has_room(count, chars, size):
            row_id = None  # full (or none pending): a new row from here on
            fresh.append([])
            fresh_chars.append(0)
            count = chars = 0
        if row_id is not None:
            joining.append(item)
        else:
            if not fresh:
                fresh.append([])
                fresh_chars.append(0)
            fresh[-1].append(item)
            fresh_chars[-1] += size
        count += 1
        chars += size
    for start in range(0, len(joining), APPEND_AT_ONCE):
        assert pending is not None
        part = joining[start : start + APPEND_AT_ONCE]
        params: dict[str, Any] = {f"item{n}": json.dumps(item) for n, item in enumerate(part)}
        params["id"] = pending[0]
        params["size"] = sum(len(i["text"]) + len(i["status"]) for i in part)
        session.execute(_append(len(part)), params)
    for items, size in zip(fresh, fresh_chars, strict=True):
        if not items:
            continue
        session.execute(
            _NEW_ROW,
            {
                "partnership_id": partnership_id,
                "key": f"progress:{partnership_id}:{items[0]['entry']}",
                "kind": KIND,
                "target": channel,
                "occurrence": now,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "late": False,
                "payload": {"items": items, "chars": size},
                "created_at": now,
            },
        )


_NEW_ROW = insert(cast(Table, Delivery.__table__))  # built once; values given per row

# The channel's newest pending row as (id, updates, characters), built once.
_PENDING_SIZE = (
    select(
        Delivery.id,
        func.json_array_length(Delivery.payload, "$.items"),
        func.json_extract(Delivery.payload, "$.chars"),
    )
    .where(
        Delivery.partnership_id == bindparam("pid"),
        Delivery.kind == bindparam("kind"),
        Delivery.target == bindparam("target"),
        Delivery.status == DeliveryStatus.PENDING,
    )
    .order_by(Delivery.id.desc())
    .limit(1)
)


@functools.lru_cache(maxsize=APPEND_AT_ONCE)
def _append(count: int) -> TextClause:
    """``count`` updates joining a pending row, in SQLite: appended to its items and
    their size added, in one statement (each JSON function call reads the whole row)."""
    paths = ", ".join(f"'$.items[#]', json(:item{n})" for n in range(count))
    return text(
        f"UPDATE delivery SET payload = json_set(payload, {paths}, "
        "'$.chars', coalesce(json_extract(payload, '$.chars'), 0) + :size) WHERE id = :id"
    )


def _has_room(count: int, chars: int, size: int) -> bool:
    """Whether a row holding ``count`` updates of ``chars`` characters takes one more of
    ``size``."""
    return count < MAX_ITEMS and chars + size <= MAX_CHARS


def _items(delivery: Delivery) -> list[tuple[str, str, str]]:
    """(text, status, fallback) of each update in the row."""
    found: list[tuple[str, str, str]] = []
    for item in delivery.payload.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            text = item["text"]
            found.append((text, str(item.get("status") or ""), str(item.get("fallback") or text)))
    return found


def render_progress_update(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    """One update as today's channel post; several as one post listing each."""
    items = _items(delivery)
    if not items:
        return None
    if len(items) == 1:
        text, status, fallback = items[0]
        return OutboundMessage(text=fallback, blocks=[section(text), context(status)])
    count = f"{len(items)} progress updates"
    lines = [f"{text}\n{status}\n" for text, status, _ in items]
    sections = [section(chunk) for chunk in chunk_lines(lines)]
    blocks = fit(
        [section(f"*{count}* since the last post:"), *sections],
        MAX_MESSAGE_BLOCKS,
        "…and more: see `/csp plan`.",
    )
    fallback = f"{count}: " + "; ".join(text.split("\n", 1)[0] for text, _, _ in items)
    return OutboundMessage(text=fallback[:3000], blocks=blocks)
