"""The delivery registry: every kind has a renderer, and a missing one stops start-up."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from slack_sdk import WebClient

from bot.context import AppContext
from bot.deliveries import DELIVERY_KINDS
from bot.notices import registry
from bot.notices.digest import digest_source
from bot.notices.registry import (
    RENDERERS,
    SOURCES,
    RegistryError,
    check_registry,
    renderer_for,
)
from bot.notices.reminder_sources import reminder_source
from bot.referrals.escalation import escalation_source
from handlers.app import build_app
from scheduler.gate import reset_gate
from scheduler.jobs import start_scheduler
from scheduler.sweep import run_sweep
from tests.fakes.slack import FakeSlack


def test_every_kind_has_a_renderer() -> None:
    check_registry()
    assert set(RENDERERS) == set(DELIVERY_KINDS)
    for kind in DELIVERY_KINDS:
        assert renderer_for(kind) is RENDERERS[kind]


def test_a_kind_without_a_renderer_is_named() -> None:
    partial = {k: v for k, v in RENDERERS.items() if k not in ("digest", "referral_status")}
    with pytest.raises(RegistryError, match="'digest', 'referral_status'"):
        check_registry(partial)


def test_an_unknown_stored_kind_has_no_renderer() -> None:
    assert renderer_for("no_such_kind") is None


def test_sources_run_in_order_and_only_escalation_is_prefiltered() -> None:
    assert [s.propose for s in SOURCES] == [reminder_source, digest_source, escalation_source]
    assert [s.name.rpartition(":")[2] for s in SOURCES] == [
        "reminder_source",
        "digest_source",
        "escalation_source",
    ]
    assert all(s.name == f"{s.propose.__module__}:{s.propose.__name__}" for s in SOURCES)
    assert [s.prefilter is not None for s in SOURCES] == [False, False, True]


def test_calendar_driven_sources_are_the_reminders_and_the_digest() -> None:
    assert [s.calendar_driven for s in SOURCES] == [True, True, False]


def test_every_renderer_loads_a_renderer_of_the_notices() -> None:
    for renderer in RENDERERS.values():
        assert isinstance(renderer, registry.LazyRenderer)
        function = renderer.load()
        assert callable(function) and function.__module__.startswith("bot.notices.")


def test_start_up_stops_on_a_kind_without_a_renderer(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = {k: v for k, v in RENDERERS.items() if k != "meeting"}
    monkeypatch.setattr(registry, "RENDERERS", partial)
    client = WebClient(token="xoxb-test", base_url=ctx.settings.slack_api_url)
    with pytest.raises(RegistryError, match="'meeting'"):
        run_sweep(ctx, client=client, per_channel_interval=0)
    with pytest.raises(RegistryError, match="'meeting'"):
        start_scheduler(ctx, client)
    with pytest.raises(RegistryError, match="'meeting'"):
        build_app(ctx, client=client)


def test_an_idle_sweep_does_not_load_slack(ctx: AppContext, fake_slack: FakeSlack) -> None:
    """`csp-bot sweep` with nothing due never imports slack_sdk or slack_bolt."""
    reset_gate()
    at = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    run_sweep(ctx, now=at, client=client, per_channel_interval=0)  # sends what is due now
    code = (
        "import sys\n"
        "from handlers.cli.main import app\n"
        f"app(['sweep', '--now', {at.isoformat()!r}], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('slack_sdk', 'slack_bolt')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sent 0" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
