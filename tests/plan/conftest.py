from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.context import AppContext, build_context
from bot.plan import ensure_partnership
from bot.settings import Settings, load_settings
from store.db import session_scope
from store.models import Partnership
from tests.dbutil import fresh_database_url

SEED = Path(__file__).resolve().parents[1] / "data" / "seed.txt"
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


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
