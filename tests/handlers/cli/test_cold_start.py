"""Cold start: `csp-bot plan show` and an idle `csp-bot sweep` load only what they use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.context import AppContext
from tests.dbutil import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="CLI runs are covered on SQLite")

# Runs the CLI in this process, then prints the modules it loaded.
LOADED = """
import sys
from handlers.cli.main import main
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("LOADED", " ".join(sorted(sys.modules)))
sys.exit(code)
"""

# What neither command needs: the Bolt app and the Slack SDK, Alembic once the schema is
# current, the XLSX reader and writer, the scrutiny pack's Word writer and chart, and the
# referral cipher.
NOT_NEEDED = (
    "slack_bolt",
    "slack_sdk",
    "alembic",
    "apscheduler",
    "openpyxl",
    "docx",
    "matplotlib",
    "cryptography",
)
# An idle sweep asks about no working day and prints no table either.
NOT_NEEDED_BY_AN_IDLE_SWEEP = (*NOT_NEEDED, "rich", "holidays")


def loaded_by(*args: str, modules: bool = False) -> set[str]:
    """The top-level packages a CLI run loads (every module, with ``modules``)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CSP_LOG_LEVEL": "ERROR"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED "))
    names = set(line.split()[1:])
    return names if modules else {name.split(".")[0] for name in names}


def test_plan_show_loads_no_slack_app_or_migrations(seeded_ctx: AppContext) -> None:
    loaded = loaded_by("plan", "show")
    assert "sqlalchemy" in loaded
    assert not loaded & set(NOT_NEEDED), sorted(loaded & set(NOT_NEEDED))


def test_an_idle_sweep_loads_no_slack_app_or_migrations(ctx: AppContext) -> None:
    loaded = loaded_by("sweep")
    assert "scheduler" in loaded
    assert not loaded & set(NOT_NEEDED), sorted(loaded & set(NOT_NEEDED))


def test_an_idle_sweep_loads_no_table_no_holidays_and_no_delivery_source(
    seeded_ctx: AppContext,
) -> None:
    at = "2026-11-26T10:00+00:00"
    loaded_by("sweep", "--now", at)  # plans the seeded plan and sends what is due then
    loaded = loaded_by("sweep", "--now", at, modules=True)
    unneeded = sorted(name for name in loaded if name.split(".")[0] in NOT_NEEDED_BY_AN_IDLE_SWEEP)
    assert not unneeded, unneeded
    sources = {
        "bot.notices.digest",
        "bot.notices.reminder_sources",
        "bot.notices.reminder_renderers",
        "bot.notices.referral_renderers",
        "bot.referrals.escalation",
    }
    assert not loaded & sources, sorted(loaded & sources)
