"""The schema check at start-up: one query against alembic_version, Alembic only to upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

import store.schema
from bot.context import AppContext
from store.db import make_engine
from store.schema import MIGRATIONS, database_revisions, ensure_schema, head_revision
from tests.dbutil import fresh_database_url


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_head_revision_follows_the_chain(tmp_path: Path) -> None:
    (tmp_path / "0001_a.py").write_text('revision: str = "0001"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text("revision = '0002'\ndown_revision: str | None = '0001'\n")
    assert head_revision(tmp_path) == "0002"
    (tmp_path / "0003_c.py").write_text('revision = "0003"\ndown_revision = "0001"\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        head_revision(tmp_path)


def test_a_current_database_is_not_upgraded_again(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database_revisions(ctx.engine) == [head_revision()]

    def upgrade(*args: object) -> None:
        raise AssertionError("upgraded a current database")

    monkeypatch.setattr(store.schema, "upgrade", upgrade)
    ensure_schema(ctx.engine)


def test_a_new_database_is_upgraded(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    try:
        assert database_revisions(engine) == []
        ensure_schema(engine)
        assert database_revisions(engine) == [head_revision()]
    finally:
        engine.dispose()
