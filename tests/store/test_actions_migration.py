"""Revision 0006: an existing database's objectives each become an objective with one action."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from store.db import make_engine
from store.models import Base
from store.schema import upgrade
from tests.dbutil import fresh_database_url

NOW = "2026-11-30 10:00:00+00:00"


def test_each_objective_gets_one_action_owning_its_owners_schedule_and_progress(
    tmp_path: Path,
) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO partnership (id, name, timezone, plan_year, settings, "
                    "referral_seq, created_at) VALUES (1, 'Maldon', 'Europe/London', 2026, "
                    "'{}', 0, :now)"
                ),
                {"now": NOW},
            )
            for oid, title, rag in ((1, "PREVENT", "amber"), (2, "Safeguarding", None)):
                conn.execute(
                    text(
                        "INSERT INTO objective (id, partnership_id, plan_year, position, title, "
                        "action_text, timescale_text, status, rag, needs_dating, created_at, "
                        "updated_at) VALUES (:id, 1, 2026, :id, :title, 'Train staff', "
                        "'March 2027', 'open', :rag, false, :now, :now)"
                    ),
                    {"id": oid, "title": title, "rag": rag, "now": NOW},
                )
                conn.execute(
                    text(
                        "INSERT INTO objective_owner (objective_id, label, slack_user_id) "
                        "VALUES (:id, '<@U0SAM>', 'U0SAM')"
                    ),
                    {"id": oid},
                )
                conn.execute(
                    text(
                        "INSERT INTO schedule_item (objective_id, position, kind, due_on, "
                        "month_only, source_text) VALUES (:id, 0, 'deadline', '2027-03-31', "
                        "true, 'March 2027')"
                    ),
                    {"id": oid},
                )
            conn.execute(
                text(
                    "INSERT INTO progress_entry (objective_id, author, created_at, rag, done, "
                    "note) VALUES (1, 'Sam', :now, 'amber', false, 'Booked')"
                ),
                {"now": NOW},
            )
        upgrade(engine)
        with engine.connect() as conn:
            actions = conn.execute(
                text(
                    "SELECT id, objective_id, position, text, timescale_text, rag FROM action "
                    "ORDER BY objective_id"
                )
            ).all()
            assert [tuple(a)[1:] for a in actions] == [
                (1, 1, "Train staff", "March 2027", "amber"),
                (2, 1, "Train staff", "March 2027", None),
            ]
            by_objective = {a.objective_id: a.id for a in actions}
            for table in ("objective_owner", "schedule_item", "progress_entry"):
                rows = conn.execute(text(f"SELECT objective_id, action_id FROM {table}")).all()
                assert rows and all(r.action_id == by_objective[r.objective_id] for r in rows)
            # The migrated schema is the models' schema.
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == []
    finally:
        engine.dispose()
