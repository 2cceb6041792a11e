"""`csp-bot` as an operator uses it: clean output, clean errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dbutil import on_postgres
from tests.paths import SEED

pytestmark = pytest.mark.skipif(on_postgres(), reason="CLI runs are covered on SQLite")


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CSP_", "SLACK_", "DATABASE_URL"))
    }
    full_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "from handlers.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tmp_path,
        timeout=120,
    )


def test_import_show_export_round_trip(tmp_path: Path) -> None:
    done = run(tmp_path, "plan", "import", str(SEED))
    assert done.returncode == 0, done.stderr
    assert "13 added" in done.stdout
    shown = run(tmp_path, "plan", "show")
    assert shown.returncode == 0, shown.stderr
    for title in ("Strategic Assessment", "Domestic Homicide Reviews", "Reducing Reoffending"):
        assert title in shown.stdout
    assert "29 Apr 2016" in shown.stdout
    exported = run(tmp_path, "plan", "export")
    doc = json.loads(exported.stdout)
    assert [o["title"] for o in doc["objectives"]][6] == "Domestic Homicide Reviews"
    csv_out = tmp_path / "plan.csv"
    assert (
        run(tmp_path, "plan", "export", "--format", "csv", "--output", str(csv_out)).returncode == 0
    )
    assert csv_out.read_text(encoding="utf-8").splitlines()[1].startswith("Objective,")
    xlsx_out = tmp_path / "plan.xlsx"
    assert run(tmp_path, "plan", "export", "--format", "xlsx", "-o", str(xlsx_out)).returncode == 0
    assert xlsx_out.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"CSP_TIMEZONE": "Mars/Olympus"}, "CSP_TIMEZONE"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"CSP_ENCRYPTION_KEY": "short"}, "CSP_ENCRYPTION_KEY"),
        ({"CSP_LOG_LEVEL": "LOUD"}, "CSP_LOG_LEVEL"),
    ],
)
def test_bad_settings_stop_with_one_sentence(
    tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    done = run(tmp_path, "plan", "show", env=env)
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_user_errors_have_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Objective\tOutcome/Action\tTimescale\tProgress\nCaf\xe9".encode("latin-1"))
    done = run(tmp_path, "plan", "import", str(bad))
    assert done.returncode != 0
    assert "UTF-8" in done.stderr and "Traceback" not in done.stderr
    missing = run(tmp_path, "plan", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert run(tmp_path, "plan", "export", "--format", "pdf").returncode != 0
    rolled = run(tmp_path, "plan", "rollover", "--year", "1999")
    assert rolled.returncode == 1 and "Traceback" not in rolled.stderr


def test_rollover_guard_export_errors_and_import_hint(tmp_path: Path) -> None:
    imported = run(tmp_path, "plan", "import", str(SEED))
    assert "plan rollover --year" in imported.stdout  # 2016 dates: how to make them live
    early = run(tmp_path, "plan", "rollover", "--year", "2099")
    assert early.returncode == 1 and "--force" in early.stderr and "Traceback" not in early.stderr
    bad_dir = run(tmp_path, "plan", "export", "--format", "csv", "-o", "/nonexistent/dir/x.csv")
    assert bad_dir.returncode == 2 and "Traceback" not in bad_dir.stderr
    assert "/nonexistent/dir/x.csv" in bad_dir.stderr
    helped = run(tmp_path, "sweep", "--help")
    assert "<bool>" not in helped.stdout and "--dry-run" in helped.stdout


def test_import_errors_name_the_thing(tmp_path: Path) -> None:
    missing = run(tmp_path, "plan", "import", "no-such-plan.csv")
    assert missing.returncode != 0
    assert "no-such-plan.csv does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    folder = run(tmp_path, "plan", "import", str(tmp_path))
    assert "is a folder, not a file" in folder.stderr
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    said = run(tmp_path, "plan", "import", str(pdf))
    assert said.returncode != 0
    assert "this is a PDF; save the table as Excel (.xlsx) or CSV (UTF-8)" in said.stderr


def test_import_help_names_every_format_it_reads(tmp_path: Path) -> None:
    shown = run(tmp_path, "plan", "import", "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for fmt in (".txt", "CSV", ".csv", "Excel", ".xlsx", "JSON", ".json"):
        assert fmt in text, fmt


def test_import_says_which_year_it_chose_why_and_what_changed(tmp_path: Path) -> None:
    done = run(tmp_path, "plan", "import", str(SEED))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Plan year 2016/17: most of its dates fall in 2016/17" in done.stdout
    assert any(line.startswith("Added (13): Strategic Assessment; ") for line in lines)
    edited = tmp_path / "plan.txt"
    edited.write_bytes(
        SEED.read_bytes().replace(b"April 2016\t\nPartnership", b"May 2016\t\nPartnership")
    )
    again = run(tmp_path, "plan", "import", str(edited))
    assert again.returncode == 0, again.stderr
    assert "Updated (1): Strategic Assessment (Timescale)" in again.stdout
    assert "Unchanged (12): " in again.stdout


def test_import_never_starts_a_year_that_has_not_begun_without_year(tmp_path: Path) -> None:
    future = tmp_path / "plan.csv"
    future.write_text(
        "Community Safety Action Plan 2098/99\nObjective,Action,Timescale,Budget\n"
        "Prevent,Train staff,June 2098,5k\n",
        encoding="utf-8",
    )
    refused = run(tmp_path, "plan", "import", str(future))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "2098/99 has not begun" in refused.stderr and "--year 2098" in refused.stderr
    forced = run(tmp_path, "plan", "import", str(future), "--year", "2098")
    assert forced.returncode == 0, forced.stderr
    assert "Plan year 2098/99: as asked with --year (2098/99 has not begun" in forced.stdout
    assert "kept with each objective and exported back: Budget" in forced.stdout
