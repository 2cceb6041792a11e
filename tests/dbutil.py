"""Where test databases live: a fresh SQLite file by default, or a wiped PostgreSQL
database when CSP_TEST_DATABASE_URL is set (CI runs the database tests both ways)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine


def fresh_database_url(tmp_path: Path) -> str:
    url = os.environ.get("CSP_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'csp-test.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def on_postgres() -> bool:
    return bool(os.environ.get("CSP_TEST_DATABASE_URL"))
