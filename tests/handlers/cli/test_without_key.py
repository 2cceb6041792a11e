"""Running without the referral key once referrals exist: the plan, reminders and digest
run; referrals are said to be unavailable and stored ones are left alone."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.context import AppContext, build_context
from bot.plan.members import ensure_partnership
from bot.referrals import availability, crypto
from bot.referrals.readiness import safeguarding_readiness
from bot.referrals.retention import purge_expired
from handlers.cli.main import app as cli_app
from handlers.shell.shell import Shell
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, Referral
from tests.fakes.slack import FakeSlack
from tests.handlers.cli.test_referrals_cli import MARKER, _raise_referral

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")
LATER = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # the referral is days overdue


@pytest.fixture(autouse=True)
def _restore_availability(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(availability, "_state", dict(availability._state))
    yield
    crypto.configure([])


@pytest.fixture
def keyless(seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """The seeded database with one unacknowledged referral, opened without the key."""
    _raise_referral(seeded_ctx)
    monkeypatch.delenv("CSP_ENCRYPTION_KEY")
    settings = seeded_ctx.settings.model_copy(update={"encryption_key": None})
    ctx = build_context(settings, clock=seeded_ctx.clock, migrate=False)
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def test_start_up_goes_on_and_says_loudly_that_referrals_are_unavailable(
    keyless: AppContext,
) -> None:
    assert not availability.referrals_available()
    with session_scope(keyless.sessions) as session:
        partnership = ensure_partnership(session, keyless.settings, now=keyless.clock.now())
        warnings = safeguarding_readiness(keyless.settings, session, partnership)
    loud = warnings[0]
    assert loud.startswith("SAFEGUARDING REFERRALS ARE UNAVAILABLE")
    assert "holds 1 referral(s)" in loud and "CSP_ENCRYPTION_KEY" in loud
    assert "reminders and digest run" in loud


def test_the_shell_runs_the_plan_and_refuses_referrals_kindly(keyless: AppContext) -> None:
    result = subprocess.run(
        [*CLI, "shell", "--user", "ULEAD"],
        input="/csp due\n/csp refer\n/csp referrals\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "SAFEGUARDING REFERRALS ARE UNAVAILABLE" in out + result.stderr
    assert "Overdue" in out.split("csp> /csp due")[1]
    refer = out.split("csp> /csp refer\n")[1].split("csp> ")[0]
    assert "unavailable until an admin sets CSP_ENCRYPTION_KEY" in refer
    listing = out.split("csp> /csp referrals")[1]
    assert "unavailable until an admin sets CSP_ENCRYPTION_KEY" in listing
    assert MARKER not in out + result.stderr and "Traceback" not in result.stderr


def test_sweeps_send_reminders_but_never_escalate_without_the_key(
    keyless: AppContext, fake_slack: FakeSlack
) -> None:
    reset_gate()
    report = run_sweep(keyless, now=LATER, per_channel_interval=0)
    assert report.outbox.sent > 0 and not report.source_errors
    with session_scope(keyless.sessions) as session:
        kinds = set(session.scalars(select(Delivery.kind)))
    assert "referral_escalation" not in kinds
    assert kinds & {"overdue_summary", "overdue", "meeting_set_date"}


def test_retention_leaves_referrals_alone_without_the_key(keyless: AppContext) -> None:
    with session_scope(keyless.sessions) as session:
        ref = session.scalars(select(Referral)).one()
        ref.closed_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with session_scope(keyless.sessions) as session:
        partnership = ensure_partnership(session, keyless.settings, now=LATER)
        assert purge_expired(session, partnership, LATER) == 0
        assert session.scalars(select(Referral)).one().subject_enc is not None
    refused = CliRunner().invoke(cli_app, ["referrals", "purge"])
    assert refused.exit_code != 0 and "unavailable" in refused.output


def test_keys_rotate_with_one_key_says_there_is_nothing_to_rotate(ctx: AppContext) -> None:
    _raise_referral(ctx)
    done = CliRunner().invoke(cli_app, ["keys", "rotate"])
    assert done.exit_code == 0, done.output
    assert "nothing to rotate" in done.output and "Re-encrypted" not in done.output
    assert "CSP_ENCRYPTION_KEY=new,old" in done.output


def test_with_the_key_back_escalations_resume(
    seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    _raise_referral(seeded_ctx)
    ctx = build_context(seeded_ctx.settings, clock=seeded_ctx.clock, migrate=False)
    try:
        reset_gate()
        run_sweep(ctx, now=LATER, per_channel_interval=0)
        with session_scope(ctx.sessions) as session:
            kinds = set(session.scalars(select(Delivery.kind)))
        assert "referral_escalation" in kinds
    finally:
        ctx.engine.dispose()


def test_shell_object_runs_without_the_key(keyless: AppContext) -> None:
    out = io.StringIO()
    Shell(keyless, user_id="ULEAD").run(io.StringIO("/csp plan\n"), out, interactive=False)
    assert "Strategic Assessment" in out.getvalue()
