"""Cold start: `csp-bot plan show` and an idle `csp-bot sweep` load only what they use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.context import AppContext
from tests.dbutil import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="CLI runs are covered on SQLite")

# Runs the CLI in this process, then prints the top-level packages it loaded.
LOADED = """
import sys
from handlers.cli.main import main
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("LOADED", " ".join(sorted({name.split(".")[0] for name in sys.modules})))
sys.exit(code)
"""

# What neither command needs: the Bolt app, and Alembic once the schema is current.
NOT_NEEDED = ("slack_bolt", "alembic", "apscheduler")


def loaded_by(*args: str) -> set[str]:
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
    return set(line.split()[1:])


def test_plan_show_loads_no_slack_app_or_migrations(seeded_ctx: AppContext) -> None:
    loaded = loaded_by("plan", "show")
    assert "sqlalchemy" in loaded
    assert not loaded & set(NOT_NEEDED), sorted(loaded & set(NOT_NEEDED))


def test_an_idle_sweep_loads_no_slack_app_or_migrations(ctx: AppContext) -> None:
    loaded = loaded_by("sweep")
    assert "scheduler" in loaded
    assert not loaded & set(NOT_NEEDED), sorted(loaded & set(NOT_NEEDED))
