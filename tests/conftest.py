"""Shared fixtures: a fake Slack, isolated settings, a fixed clock, migrated and
seeded databases, signed-request helpers and the real HTTP server.

Databases are SQLite files under each test's tmp_path. Migrating (and seeding) is
done once per test session into template files that each test copies, so a test
pays milliseconds, not a full Alembic upgrade.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.context import AppContext, build_context
from bot.plan.members import ensure_partnership
from bot.settings import Settings, load_settings
from store.db import session_scope
from store.models import Partnership
from tests.dbutil import fresh_database_url
from tests.fakes.slack import FakeSlack
from tests.fakes.slack import signed_request as _signed_request

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
FERNET_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SIGNING_SECRET = "test-secret"
BOT_TOKEN = "xoxb-test"

_ENV_PREFIXES = ("CSP_", "SLACK_")
_ENV_NAMES = ("DATABASE_URL",)


def settings_env(db_path: Path, api_url: str) -> dict[str, str]:
    """The environment the `settings` fixture sets (also handy for CLI tests)."""
    return {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "CSP_PARTNERSHIP_CHANNEL": "C0PARTNER",
        "CSP_SAFEGUARDING_CHANNEL": "C0SAFEGUARD",
        "CSP_ADMINS": "UADMIN",
        "CSP_SAFEGUARDING_LEADS": "ULEAD",
        "CSP_ENCRYPTION_KEY": FERNET_KEY,
    }


_LIST_VARS = ("CSP_ADMINS", "CSP_SAFEGUARDING_LEADS")


def _env_list(name: str, value: str) -> str:
    """The spelling of a comma-separated id list that Settings reads from the environment.

    Plain "U1,U2" is the documented form; if the Settings in this tree cannot read it
    (pydantic-settings JSON-decodes list fields unless told not to), fall back to the
    JSON spelling so the fixtures keep working.
    """
    from pydantic_settings import SettingsError

    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        Settings()
    except SettingsError:
        return json.dumps([v for v in value.split(",") if v])
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved
    return value


def _copy_sqlite(src: Path, dst: Path) -> None:
    """Copy a SQLite database through SQLite itself (safe with WAL files around)."""
    source = sqlite3.connect(src)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


class _Templates:
    """Migrated / seeded database files built once per test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._built: dict[str, Path] = {}

    def get(self, kind: str, settings: Settings) -> Path:
        with self._lock:
            if kind not in self._built:
                self._built[kind] = self._build(kind, settings)
            return self._built[kind]

    def _build(self, kind: str, settings: Settings) -> Path:
        path = self.root / f"template-{kind}.sqlite3"
        path.unlink(missing_ok=True)
        template = settings.model_copy(update={"database_url": f"sqlite:///{path}"})
        ctx = build_context(template, clock=FixedClock(NOW), migrate=True)
        try:
            if kind == "seeded":
                from bot.planfiles.seed import load_seed_if_empty

                with session_scope(ctx.sessions) as session:
                    session.info["clock"] = ctx.clock
                    load_seed_if_empty(session, template, now=NOW)
            with ctx.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            ctx.engine.dispose()
        return path


@pytest.fixture(scope="session")
def _db_templates(tmp_path_factory: pytest.TempPathFactory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("db-templates"))


@pytest.fixture(autouse=True)
def _referral_availability() -> Iterator[None]:
    """Each test starts with referrals available, as a process with its key does: the
    flag is per process (set by build_context), so one test's keyless context must not
    switch referrals off for the next test in the same worker."""
    from bot.referrals import availability

    saved = dict(availability._state)
    availability.set_key(True)
    availability.lock(0)
    try:
        yield
    finally:
        availability._state.clear()
        availability._state.update(saved)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API for this test (a real HTTP server on a free port)."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a tmp SQLite file and the fake Slack; the same values are set in
    the environment (and stray CSP_/SLACK_/DATABASE_URL variables removed), so code
    that reads settings itself, such as the CLI, sees the same thing."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
    env = settings_env(tmp_path / "csp.sqlite3", fake_slack.base_url)
    for name, value in env.items():
        monkeypatch.setenv(name, _env_list(name, value) if name in _LIST_VARS else value)
    return Settings()


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at 2026-11-26T10:00Z until a test moves it."""
    return FixedClock(NOW)


@pytest.fixture
def ctx(settings: Settings, clock: FixedClock, _db_templates: _Templates) -> Iterator[AppContext]:
    """The shared objects over a migrated, empty database."""
    path = settings.sqlite_path
    assert path is not None
    _copy_sqlite(_db_templates.get("migrated", settings), path)
    context = build_context(settings, clock=clock, migrate=False)
    try:
        yield context
    finally:
        context.engine.dispose()


@pytest.fixture
def seeded_ctx(ctx: AppContext, _db_templates: _Templates) -> AppContext:
    """``ctx`` with the seed plan loaded (load_seed_if_empty at 2026-11-26)."""
    path = ctx.settings.sqlite_path
    assert path is not None
    ctx.engine.dispose()
    _copy_sqlite(_db_templates.get("seeded", ctx.settings), path)
    return ctx


@pytest.fixture
def signed_request() -> Callable[..., tuple[dict[str, str], str]]:
    """``signed_request(body, *, content_type="form", secret="test-secret", timestamp=None)``
    -> (headers, raw body)."""
    return _signed_request


@pytest.fixture
def slack_http(seeded_ctx: AppContext, fake_slack: FakeSlack) -> Iterator[str]:
    """The real HTTP server of `csp-bot serve` on a free port, over the seeded database,
    with its Web API client pointed at the fake. Yields the base URL
    ("http://127.0.0.1:PORT"); post to f"{url}/slack/events"."""
    from handlers.app import build_app, make_client
    from handlers.server import start_http_server

    client = make_client(seeded_ctx.settings)
    app = build_app(seeded_ctx, client=client)
    server = start_http_server(app, host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()


def pytest_configure(config: Any) -> None:
    # Keep hypothesis quick and deterministic-ish in CI unless a test says otherwise.
    try:
        from hypothesis import HealthCheck
        from hypothesis import settings as hsettings
    except ImportError:  # pragma: no cover
        return
    hsettings.register_profile(
        "csp",
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    hsettings.load_profile("csp")


# Plan-level fixtures: a migrated database without Slack, a session and the partnership.


@pytest.fixture
def plan_settings(tmp_path: Path) -> Settings:
    return load_settings(
        DATABASE_URL=fresh_database_url(tmp_path),
        CSP_ADMINS="UADMIN",
        CSP_SAFEGUARDING_LEADS="ULEAD",
        CSP_PARTNERSHIP_CHANNEL="C0PARTNER",
    )


@pytest.fixture
def plan_ctx(plan_settings: Settings) -> Iterator[AppContext]:
    ctx = build_context(plan_settings, clock=FixedClock(NOW))
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def session(plan_ctx: AppContext) -> Iterator[Session]:
    with session_scope(plan_ctx.sessions) as s:
        yield s


@pytest.fixture
def partnership(session: Session, plan_settings: Settings) -> Partnership:
    return ensure_partnership(session, plan_settings, now=NOW)


# Tests that work on a database carry the `db` marker, so CI can run exactly those a
# second time on PostgreSQL: any test using a database fixture, or in a module that
# makes its own database with `fresh_database_url`.
_DB_FIXTURES = frozenset(
    {
        "settings",
        "ctx",
        "seeded_ctx",
        "slack_http",
        "plan_settings",
        "plan_ctx",
        "session",
        "partnership",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        uses_fixture = bool(_DB_FIXTURES & set(getattr(item, "fixturenames", ())))
        if uses_fixture or hasattr(module, "fresh_database_url"):
            item.add_marker(pytest.mark.db)
