"""Replies that say where something goes say where it really goes, for each configuration,
and counts read as English ("1 objective", "2 objectives")."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.context import AppContext
from handlers.cli.main import app
from handlers.shell.shell import Shell


def _with(ctx: AppContext, **settings: object) -> AppContext:
    return AppContext(ctx.settings.model_copy(update=settings), ctx.engine, ctx.sessions, ctx.clock)


def run_shell(ctx: AppContext, script: str, user: str = "UADMIN") -> str:
    out = io.StringIO()
    Shell(ctx, user_id=user).run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def test_no_referrals_with_a_safeguarding_channel_says_that_channel(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(seeded_ctx, "/csp referrals\n", user="ULEAD")
    assert "There are no open safeguarding referrals" in text
    assert "New ones are alerted in #C0SAFEGUARD as they arrive" in text


def test_no_referrals_without_a_safeguarding_channel_says_direct_message(
    seeded_ctx: AppContext,
) -> None:
    ctx = _with(seeded_ctx, safeguarding_channel=None)
    text = run_shell(ctx, "/csp referrals\n", user="ULEAD")
    assert "There are no open safeguarding referrals" in text
    assert "safeguarding channel as they arrive" not in text
    assert "No safeguarding channel is set, so new ones come to each lead by direct" in text


def test_digest_preview_names_the_channel_it_goes_to(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp digest\n")
    assert "the digest goes to #C0PARTNER each week" in text


def test_digest_preview_without_a_partnership_channel_says_it_goes_nowhere_yet(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(_with(seeded_ctx, partnership_channel=None), "/csp digest\n")
    assert "goes to the partnership channel" not in text
    assert "No partnership channel is set, so the weekly digest is not posted anywhere" in text
    assert "CSP_PARTNERSHIP_CHANNEL" in text


@pytest.mark.parametrize(
    ("count", "said"),
    [(0, "0 objectives"), (1, "1 objective"), (2, "2 objectives"), (1234, "1,234 objectives")],
)
def test_plural(count: int, said: str) -> None:
    from bot.text.numbers import plural

    assert plural(count, "objective") == said
    assert plural(1, "progress entry", "progress entries") == "1 progress entry"
    assert plural(3, "progress entry", "progress entries") == "3 progress entries"


def test_a_one_objective_plan_says_1_objective(ctx: AppContext, tmp_path: Path) -> None:
    plan = tmp_path / "one.csv"
    plan.write_text("Objective,Action,Timescale\nPREVENT,Due regard,March 2027\n")
    result = CliRunner().invoke(app, ["plan", "import", str(plan)])
    assert result.exit_code == 0, result.output
    text = run_shell(ctx, "/csp plan\nhome\n")
    assert "1 objectives" not in text
    assert "· 1 objective\n" in text  # the plan's count line
    assert "1 objective · updated" in text  # App Home
