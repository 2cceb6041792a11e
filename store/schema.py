"""The schema's version: the head revision in the migrations folder, the database's, and upgrading.

Start-up compares the two with one query against ``alembic_version``; Alembic itself
is imported only when the database actually needs upgrading.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"

_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision\s*(?::[^=\n]*)?=\s*(?:None|[\"']([^\"']*)[\"'])", re.MULTILINE
)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest revision id, read from the migration scripts' text (their
    ``revision`` and ``down_revision`` lines) without importing Alembic or them."""
    parents: dict[str, str | None] = {}
    for script in sorted(versions.glob("*.py")):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            raise RuntimeError(f"{script.name} does not say its revision and down_revision")
        parents[revision.group(1)] = down.group(1) or None
    heads = set(parents) - {parent for parent in parents.values() if parent}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def database_revisions(engine: Engine) -> list[str]:
    """The revisions stamped in the database's ``alembic_version`` table (none when the
    table is missing or cannot be read: upgrading then creates it or says why)."""
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:
        return []


def ensure_schema(engine: Engine) -> None:
    """Bring the schema up to date unless the database is already at the head revision."""
    if database_revisions(engine) != [head_revision()]:
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` with Alembic (idempotent)."""
    # Alembic (and with it Mako and the migration scripts) is imported here only, so a
    # start-up that finds the schema current never loads it.
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, revision)
