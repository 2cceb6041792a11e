"""Helpers shared by the benchmarks: a throwaway database and settings."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from bot.clock import FixedClock
from bot.context import AppContext, build_context
from bot.settings import Settings
from store.db import make_engine
from store.models import Base

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


def make_ctx(api_url: str, *, postgres: bool = False) -> AppContext:
    if postgres:
        url = os.environ["CSP_TEST_POSTGRES_URL"]
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        engine.dispose()
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    settings = Settings(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_API_URL=api_url,
        CSP_PARTNERSHIP_CHANNEL="C0PARTNER",
    )
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return build_context(settings, clock=FixedClock(NOW), migrate=False)
