"""Channel progress posts: an update joins the channel's pending row, never a claimed one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.notices import progress_updates
from bot.notices.progress_updates import queue_progress_update, render_progress_update
from store.models import Delivery, DeliveryStatus, Partnership

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
