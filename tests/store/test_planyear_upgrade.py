"""Revision 0004: schedule items made before it take their objective's day,
so an existing plan's recurring items keep the occurrences they had."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine
from store.schema import upgrade
from tests.dbutil import fresh_database_url

MADE = dt.datetime(2025, 4, 2, 9, tzinfo=dt.UTC)


def test_existing_items_take_their_objectives_creation_day(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO partnership (id, name, timezone, plan_year, settings, "
                    "referral_seq, created_at) VALUES (1, 'P', 'Europe/London', 2025, '{}', 0, :at)"
                ),
                {"at": MADE},
            )
            conn.execute(
                text(
                    "INSERT INTO objective (id, partnership_id, plan_year, position, title, "
                    "action_text, timescale_text, status, needs_dating, created_at, updated_at) "
                    "VALUES (7, 1, 2025, 0, 'Survey', 'Run it', '31 March annually', 'open', "
                    "false, :at, :at)"
                ),
                {"at": MADE},
            )
            conn.execute(
                text(
                    "INSERT INTO schedule_item (objective_id, position, kind, month_only, "
                    "source_text, due_on, rrule) VALUES (7, 0, 'recurring', false, "
                    "'31 March annually', '2026-03-31', 'FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31')"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            made = conn.execute(text("SELECT created_on FROM schedule_item")).scalar_one()
            columns = conn.execute(text("SELECT file_columns FROM objective")).scalar_one()
        assert str(made)[:10] == "2025-04-02" and columns is None
    finally:
        engine.dispose()
