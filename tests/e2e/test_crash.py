"""kill -9 in the middle of a real `csp-bot sweep` of 500 deliveries: after a restart
every delivery is in Slack exactly once (messages carry their key in metadata and
rows left in flight are reconciled through conversations.history)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.context import AppContext
from store.db import session_scope
from store.models import Delivery, DeliveryStatus
from tests.conftest import _env_list, settings_env
from tests.fakes.slack import FakeSlack
from tests.paths import REPO
from tests.scheduler.delivery.test_outbox import add_due_objectives

ROOT = REPO


def _sweep(env: dict[str, str], now: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from handlers.cli.main import main; main()", "sweep", "--now", now],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_kill_9_mid_sweep_then_restart_sends_each_once(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    owners = [f"U{i:04d}" for i in range(500)]
    add_due_objectives(ctx, 500, due=dt.date(2026, 11, 26), owners=owners)
    path = ctx.settings.sqlite_path
    assert path is not None
    env = {**os.environ, **settings_env(path, fake_slack.base_url)}
    for name in ("CSP_ADMINS", "CSP_SAFEGUARDING_LEADS"):
        env[name] = _env_list(name, env[name])
    env["PYTHONPATH"] = str(ROOT)

    first = _sweep(env, "2026-11-26T10:00:00+00:00")
    try:
        deadline = time.monotonic() + 120
        while len(fake_slack.calls_to("chat.postMessage")) < 150:
            assert first.poll() is None, first.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the sweep did not start posting"
            time.sleep(0.005)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    before = len(fake_slack.calls_to("chat.postMessage", ok=True))
    assert 150 <= before < 500, "the kill must land mid-sweep"
    with session_scope(ctx.sessions) as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
    assert statuses[DeliveryStatus.SENT] < 500

    # Restart after the dead process's lease (5 minutes) ran out.
    second = _sweep(env, "2026-11-26T10:10:00+00:00")
    _out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err.decode()
    third = _sweep(env, "2026-11-26T10:20:00+00:00")
    third.communicate(timeout=180)

    keys = Counter(
        c.args["metadata"]["event_payload"]["key"]
        for c in fake_slack.calls_to("chat.postMessage", ok=True)
    )
    assert len(keys) == 500
    assert set(keys.values()) == {1}, [k for k, n in keys.items() if n > 1][:5]
    with session_scope(ctx.sessions) as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.SENT: 500}


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_on_postgres_never_send_twice(fake_slack: FakeSlack, tmp_path: Path) -> None:
    """Two real `csp-bot sweep` processes race over one PostgreSQL database."""
    url = os.environ.get("CSP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CSP_TEST_POSTGRES_URL is not set")
    from bot.clock import FixedClock
    from bot.context import build_context
    from bot.settings import Settings
    from store.db import make_engine
    from store.schema import upgrade

    engine = make_engine(url)
    _drop_everything(engine)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, **settings_env(tmp_path / "unused.sqlite3", fake_slack.base_url)}
    env["DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    for name in ("CSP_ADMINS", "CSP_SAFEGUARDING_LEADS"):
        env[name] = _env_list(name, env[name])
    settings = Settings(
        DATABASE_URL=url, SLACK_API_URL=fake_slack.base_url, CSP_PARTNERSHIP_CHANNEL="C0PARTNER"
    )
    ctx = build_context(
        settings, clock=FixedClock(dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)), migrate=False
    )
    try:
        owners = [f"U{i:04d}" for i in range(300)]
        add_due_objectives(ctx, 300, due=dt.date(2026, 11, 26), owners=owners)
        procs = [_sweep(env, "2026-11-26T10:00:00+00:00") for _ in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err.decode()[-2000:]
        keys = Counter(
            c.args["metadata"]["event_payload"]["key"]
            for c in fake_slack.calls_to("chat.postMessage", ok=True)
        )
        assert len(keys) == 300 and set(keys.values()) == {1}
    finally:
        engine = make_engine(url)
        _drop_everything(engine)
        engine.dispose()
        ctx.engine.dispose()


def _drop_everything(engine: Any) -> None:
    from sqlalchemy import text

    from store.models import Base

    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
