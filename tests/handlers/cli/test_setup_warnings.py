"""Settings reach every sweep; start-up warnings; the shell's local admin is nobody in Slack."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.context import AppContext
from bot.settings import Settings
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Member, Partnership

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")
MONDAY_DIGEST = dt.datetime(2026, 11, 30, 9, 5, tzinfo=dt.UTC)  # 09:05 in London
CHANNEL_WARNING = "CSP_PARTNERSHIP_CHANNEL is not set"


@pytest.fixture(autouse=True)
def _fresh_gate() -> None:
    reset_gate()


def _forget_channel(ctx: AppContext) -> None:
    """The database as an earlier start left it: no partnership channel stored."""
    with session_scope(ctx.sessions) as session:
        for p in session.scalars(select(Partnership)):
            p.partnership_channel = None


def _stored_channel(ctx: AppContext) -> str | None:
    with session_scope(ctx.sessions) as session:
        return session.scalars(select(Partnership.partnership_channel)).one()


def test_dry_run_sweep_applies_the_channel_from_the_settings(seeded_ctx: AppContext) -> None:
    _forget_channel(seeded_ctx)
    report = run_sweep(seeded_ctx, now=MONDAY_DIGEST, dry_run=True)
    targets = {w.target for w in report.would_send}
    assert "C0PARTNER" in targets, report.lines()
    assert any(w.kind == "digest" and w.target == "C0PARTNER" for w in report.would_send)
    assert _stored_channel(seeded_ctx) is None  # a dry run writes nothing


def test_real_sweep_applies_the_channel_from_the_settings(
    seeded_ctx: AppContext, fake_slack: object
) -> None:
    _forget_channel(seeded_ctx)
    run_sweep(seeded_ctx, now=MONDAY_DIGEST, per_channel_interval=0)
    assert _stored_channel(seeded_ctx) == "C0PARTNER"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )


def test_sweep_warns_once_when_the_channel_is_unset(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSP_PARTNERSHIP_CHANNEL")
    result = _cli("sweep", "--dry-run", "--now", "2026-11-30T09:05")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if CHANNEL_WARNING in line]
    assert len(warnings) == 1, result.stderr
    message = warnings[0].split(": ", 1)[1]
    assert "weekly digest" in message and "without an owner" in message
    assert message.endswith(".") and message.count(". ") == 0


def test_sweep_is_quiet_when_the_channel_is_set(seeded_ctx: AppContext) -> None:
    result = _cli("sweep", "--dry-run", "--now", "2026-11-30T09:05")
    assert result.returncode == 0, result.stderr
    assert CHANNEL_WARNING not in result.stderr


def test_shell_shows_each_start_up_warning_once(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CSP_PARTNERSHIP_CHANNEL", "CSP_SAFEGUARDING_CHANNEL", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name)
    result = _cli("shell", stdin="quit\n")
    assert result.returncode == 0, result.stderr
    both = result.stdout + result.stderr
    assert both.count(CHANNEL_WARNING) == 1, both
    assert both.count("CSP_SAFEGUARDING_CHANNEL") == 1, both
    assert "WARNING" not in result.stderr


def test_the_shells_local_admin_is_stored_but_never_counted_or_messaged(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSP_ADMINS")
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    result = _cli(
        "shell",
        stdin=(
            "/csp role <@U0BOB> admin\n/csp role <@UADMIN> member\n"
            "/csp role <@U0BOB> member\n/csp role <@ULOCAL> member\n"
        ),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "@U0BOB is now an admin" in out  # the local admin can act as one
    assert "only admin" in out  # U0BOB was the last stored admin: ULOCAL is not counted
    assert "CSP_ADMINS" not in out.split("csp> /csp role <@ULOCAL> member", 1)[1]
    assert _cli("shell", stdin="quit\n").returncode == 0  # each shell stores its role again
    with session_scope(seeded_ctx.sessions) as session:
        admins = list(session.scalars(select(Member.slack_user_id).where(Member.role == "admin")))
    assert "ULOCAL" in admins  # stored with the role it acts with
    settings = Settings(admins=[])
    ctx = AppContext(settings, seeded_ctx.engine, seeded_ctx.sessions, seeded_ctx.clock)
    report = run_sweep(ctx, now=MONDAY_DIGEST + dt.timedelta(days=7), dry_run=True)
    assert report.would_send
    assert not [w for w in report.would_send if "ULOCAL" in w.target], report.lines()


def _shell(ctx: AppContext, script: str) -> str:
    import io

    from handlers.shell.shell import Shell

    out = io.StringIO()
    Shell(ctx, user_id="UADMIN").run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def test_progress_form_note_only_link_check_and_confirmation(seeded_ctx: AppContext) -> None:
    # objective 7 (DHR), no RAG (Enter), a note, a date, a link with a space (error),
    # then the same fields again with a good link.
    script = (
        "/csp progress\n7\n\nReport sent\n2026-11-03\nhttps://example.org/prevent report\n"
        "\nReport sent\n2026-11-03\nhttps://example.org/prevent-report\n"
    )
    text = _shell(seeded_ctx, script)
    assert "can't contain spaces" in text
    assert "logged as a note" in text or "is saved" in text
    assert "As of 3 Nov 2026." in text
    assert "https://example.org/prevent-report" in text


def test_progress_form_caps_the_note(seeded_ctx: AppContext) -> None:
    text = _shell(seeded_ctx, "/csp progress\n7\n2\n" + "x" * 12_000 + "\n\n\n")
    assert "12,000 characters; please keep it to 3,000" in text


def test_replies_for_long_notes_done_twice_and_weekend_meetings(seeded_ctx: AppContext) -> None:
    text = _shell(
        seeded_ctx,
        "/csp progress dhr " + "y" * 12_000 + "\n"
        "/csp progress partnership plan done\n/csp progress partnership plan done\n"
        "/csp meeting OCB 2026-12-27\n/csp meeting OCB 2026-12-40\n/csp help xyz\n",
    )
    assert "12,000 characters" in text
    first, second = text.split("csp> /csp progress partnership plan done")[1:3]
    assert "already" not in first
    assert "already marked done by @UADMIN on 26 Nov 2026" in second
    assert "Nothing was changed" in second
    assert "Note: that is a Sunday (27 December 2026)" in text
    assert "`2026-12-40` is not a real date" in text or "2026-12-40 is not a real date" in text
    assert "`xyz` is not a /csp command" in text.split("csp> /csp help xyz")[1]
