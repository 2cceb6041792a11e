"""An import reads and works out everything first, so it holds the write lock only to write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import bot.planfiles.importer
from bot.planfiles.importer import import_plan_bytes
from store.models import Meeting, Objective, Partnership, ScheduleItem
from tests.conftest import NOW

TIMESCALES = [
    "31 March 2027",
    "Quarterly",
    "Ongoing",
    "June 2027",
    "Board meetings March and October 2027",
]


def _plan(rows: int) -> bytes:
    lines = ["Objective,Action,Timescale,Lead"]
    for n in range(rows):
        lines.append(f"Objective {n},Do thing {n},{TIMESCALES[n % len(TIMESCALES)]},Council")
    return ("\n".join(lines) + "\n").encode()


def test_every_read_and_every_timescale_comes_before_the_first_write(
    session: Session, partnership: Partnership, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.commit()  # the partnership row is written; the import starts a new transaction
    events: list[str] = []
    parse = bot.planfiles.importer.parse_for_plan

    def parsing(*args: Any, **kwargs: Any) -> Any:
        events.append("parse")
        return parse(*args, **kwargs)

    def statement(_conn: Any, _cur: Any, sql: str, *_: Any) -> None:
        events.append(sql.lstrip().split(None, 1)[0].upper())

    monkeypatch.setattr(bot.planfiles.importer, "parse_for_plan", parsing)
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", statement)
    try:
        report = import_plan_bytes(session, partnership, _plan(200), "plan.csv", now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert len(report.created) == 200
    first_write = next(i for i, e in enumerate(events) if e in ("INSERT", "UPDATE", "DELETE"))
    assert events.count("parse") == len(TIMESCALES)  # each distinct cell read once
    assert "parse" not in events[first_write:]
    assert "SELECT" not in events[first_write:]  # nothing waits on a read while holding it
    assert session.scalar(select(func.count()).select_from(Objective)) == 200
    assert session.scalar(select(func.count()).select_from(ScheduleItem)) == 160  # 4 in 5 rows
    # The board meeting objectives share their two meetings, made once each.
    assert session.scalar(select(func.count()).select_from(Meeting)) == 2
