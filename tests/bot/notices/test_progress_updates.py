"""Channel progress posts: an update joins the channel's pending row, never a claimed one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.notices import progress_updates
from bot.notices.progress_updates import queue_progress_update, render_progress_update
from store.models import Delivery, DeliveryStatus, Partnership
from tests.dbutil import on_postgres

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


def _queue(session: Session, partnership: Partnership, n: int, text: str = "") -> Delivery:
    return queue_progress_update(
        session,
        partnership.id,
        "C0PARTNER",
        entry_id=n,
        text=text or f"<@U{n}> logged progress on *Item {n}* and rated it Green.",
        status=f"Green · next due {n} Dec",
        fallback=f"Progress logged for Item {n}: Green.",
        now=NOW,
    )


def _rows(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_updates_to_one_channel_join_its_pending_row(
    session: Session, partnership: Partnership
) -> None:
    for n in range(3):
        _queue(session, partnership, n)
    (row,) = _rows(session)
    assert row.kind == "progress_update" and row.key == f"progress:{partnership.id}:0"
    message = render_progress_update(session, row, NOW)
    assert message is not None and message.text.startswith("3 progress updates: ")
    shown = str([b.to_dict() for b in message.blocks or []])  # type: ignore[union-attr]
    assert all(f"*Item {n}*" in shown and f"next due {n} Dec" in shown for n in range(3))


def test_one_update_is_posted_as_it_always_was(session: Session, partnership: Partnership) -> None:
    row = _queue(session, partnership, 7)
    message = render_progress_update(session, row, NOW)
    assert message is not None and message.text == "Progress logged for Item 7: Green."
    assert [b.to_dict()["type"] for b in message.blocks or []] == ["section", "context"]  # type: ignore[union-attr]


def test_a_claimed_row_takes_no_more_updates(session: Session, partnership: Partnership) -> None:
    first = _queue(session, partnership, 1)
    first.status = DeliveryStatus.IN_FLIGHT  # the outbox has it: its post may be rendered
    session.flush()
    second = _queue(session, partnership, 2)
    assert second.id != first.id
    assert [len(r.payload["items"]) for r in _rows(session)] == [1, 1]


def test_a_full_row_starts_another(session: Session, partnership: Partnership) -> None:
    for n in range(progress_updates.MAX_ITEMS + 1):
        _queue(session, partnership, n)
    counts = [len(r.payload["items"]) for r in _rows(session)]
    assert counts == [progress_updates.MAX_ITEMS, 1]


def test_long_notes_stay_inside_slacks_limits(session: Session, partnership: Partnership) -> None:
    for n in range(100):
        _queue(session, partnership, n, text=f"<@U{n}> logged progress.\n>" + "word " * 59)
    for row in _rows(session):
        message = render_progress_update(session, row, NOW)
        assert message is not None and message.blocks is not None
        assert len(message.blocks) <= 50
        for block in message.blocks:
            assert len(block.to_dict()["text"]["text"]) <= 3000  # type: ignore[union-attr]
        assert len(message.text) <= 3000


HOSTILE = 'it\'s "done" & <b>bold</b> — naïve $.items[0] \\ end'


def _batch(session: Session, partnership: Partnership, numbers: range, text: str = "") -> None:
    progress_updates.queue_progress_updates(
        session,
        partnership.id,
        "C0PARTNER",
        [
            (n, text or f"<@U{n}> rated *Item {n}* Green.", f"Green · {n}", f"Item {n}: Green.")
            for n in numbers
        ],
        now=NOW,
    )
    session.flush()
    session.expire_all()


@pytest.mark.skipif(on_postgres(), reason="batches are saved on SQLite only")
def test_a_batch_joins_the_pending_row_in_order_and_keeps_its_text_exactly(
    session: Session, partnership: Partnership
) -> None:
    first = _queue(session, partnership, 0)
    session.flush()
    _batch(session, partnership, range(1, 4), text=HOSTILE)
    _batch(session, partnership, range(4, 6))
    (row,) = _rows(session)
    assert row.id == first.id
    items = row.payload["items"]
    assert [i["entry"] for i in items] == list(range(6))
    assert [i["text"] for i in items[1:4]] == [HOSTILE] * 3
    assert items[4] == {
        "entry": 4,
        "text": "<@U4> rated *Item 4* Green.",
        "status": "Green · 4",
        "fallback": "Item 4: Green.",
    }
    assert row.payload["chars"] == sum(len(i["text"]) + len(i["status"]) for i in items)


@pytest.mark.skipif(on_postgres(), reason="batches are saved on SQLite only")
def test_a_batch_fills_the_pending_row_then_starts_others(
    session: Session, partnership: Partnership
) -> None:
    _batch(session, partnership, range(0, 60))
    _batch(session, partnership, range(60, 250))
    rows = _rows(session)
    assert [len(r.payload["items"]) for r in rows] == [100, 100, 50]
    assert [i["entry"] for r in rows for i in r.payload["items"]] == list(range(250))
    assert [r.key for r in rows] == [f"progress:{partnership.id}:{n}" for n in (0, 100, 200)]
    for row in rows:
        message = render_progress_update(session, row, NOW)
        assert message is not None and message.text.startswith(
            f"{len(row.payload['items'])} progress updates: "
        )


@pytest.mark.skipif(on_postgres(), reason="batches are saved on SQLite only")
def test_a_batch_never_joins_a_claimed_row(session: Session, partnership: Partnership) -> None:
    _batch(session, partnership, range(0, 2))
    (claimed,) = _rows(session)
    claimed.status = DeliveryStatus.IN_FLIGHT
    session.flush()
    _batch(session, partnership, range(2, 4))
    assert [[i["entry"] for i in r.payload["items"]] for r in _rows(session)] == [[0, 1], [2, 3]]


@pytest.mark.skipif(on_postgres(), reason="batches are saved on SQLite only")
def test_a_batch_of_a_hundred_joins_the_pending_row_whatever_sqlites_argument_limit(
    session: Session, partnership: Partnership
) -> None:
    _batch(session, partnership, range(0, 1))
    _batch(session, partnership, range(1, 100), text=HOSTILE)  # 99 join one row at once
    (row,) = _rows(session)
    assert [i["entry"] for i in row.payload["items"]] == list(range(100))
    assert row.payload["chars"] == sum(
        len(i["text"]) + len(i["status"]) for i in row.payload["items"]
    )
