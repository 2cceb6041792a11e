"""Where test databases live: a fresh SQLite file by default, or a wiped PostgreSQL
database when CSP_TEST_DATABASE_URL is set (CI runs the database tests both ways)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from store.db import make_engine


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker wipes a database of its own, made on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def fresh_database_url(tmp_path: Path) -> str:
    url = os.environ.get("CSP_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'csp-test.sqlite3'}"
    url = _worker_database(url)
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
