"""Cold start: the CPU time of a cron `csp-bot sweep` with nothing to do and of
`csp-bot plan show`, each as a whole process, against a baseline process that only
imports SQLAlchemy and pydantic-settings, measured in the same run.

Run: python -m benchmarks.bench_coldstart [--runs 7]
Target (issue 8): each command at most 1.5x the baseline's CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.fakes.slack import FakeSlack
from tests.paths import SEED

BIN = Path(sys.executable).parent
TARGET = 1.5


def cpu_seconds(argv: Sequence[str], env: dict[str, str]) -> float:
    """User + system CPU time of one child process, read from the kernel's accounting."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(argv: Sequence[str], env: dict[str, str], runs: int) -> float:
    cpu_seconds(argv, env)  # warm the page cache and any .pyc files first
    return statistics.median(cpu_seconds(argv, env) for _ in range(runs))


def loaded_modules(argv: Sequence[str], env: dict[str, str], prefixes: Sequence[str]) -> list[str]:
    """Top-level heavy packages a command imports (via python -X importtime)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = set()
    for line in run.stderr.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        top = name.split(".")[0]
        if top in prefixes:
            found.add(top)
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    heavy = ("slack_sdk", "slack_bolt", "alembic", "openpyxl", "cryptography", "typer")
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CSP_", "SLACK_", "DATABASE_URL"))
        }
        env |= {
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'csp.sqlite3'}",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
            "CSP_PARTNERSHIP_CHANNEL": "C0PARTNER",
        }
        csp = str(BIN / "csp-bot")
        subprocess.run([csp, "plan", "import", str(SEED)], env=env, check=True, capture_output=True)
        # The first sweep sends whatever is due now; every sweep after it has nothing to do.
        subprocess.run([csp, "sweep"], env=env, check=True, capture_output=True)
        cases = {
            'python -c "import sqlalchemy, pydantic_settings" (baseline)': [
                sys.executable,
                "-c",
                "import sqlalchemy, pydantic_settings",
            ],
            "csp-bot sweep (idle)": [csp, "sweep"],
            "csp-bot plan show": [csp, "plan", "show"],
        }
        results = {name: median_cpu(argv, env, args.runs) for name, argv in cases.items()}
        baseline = next(iter(results.values()))
        print(f"CPU time, median of {args.runs} whole processes (user + system):")
        for name, seconds in results.items():
            ratio = seconds / baseline
            verdict = "" if seconds == baseline else f"  (target <= {TARGET}x)"
            print(f"  {name:<58} {seconds * 1000:6.0f} ms  {ratio:4.2f}x{verdict}")
        script = [str(BIN / "csp-bot")]
        for name, argv in (("sweep", ["sweep"]), ("plan show", ["plan", "show"])):
            mods = loaded_modules([*script, *argv], env, heavy)
            print(f"  heavy packages loaded by {name}: {', '.join(mods) or 'none'}")


if __name__ == "__main__":
    main()
