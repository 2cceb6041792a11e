"""`csp-bot report`: the pack written to a file, with kind errors and no encryption key."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from bot.context import build_context
from bot.settings import load_settings
from tests.bot.reports.planting import MARKER, plant
from tests.dbutil import on_postgres
from tests.handlers.cli.test_plan_cli import run
from tests.paths import SEED

pytestmark = pytest.mark.skipif(on_postgres(), reason="CLI runs are covered on SQLite")


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One planted database for the module (each CLI run is a process start)."""
    tmp_path = tmp_path_factory.mktemp("report-cli")
    done = run(tmp_path, "plan", "import", str(SEED))
    assert done.returncode == 0, done.stderr
    rolled = run(tmp_path, "plan", "rollover", "--year", "2026", "--force")
    assert rolled.returncode == 0, rolled.stderr
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    ctx = build_context(settings, migrate=False, check_referral_key=False)
    try:
        plant(ctx)
    finally:
        ctx.engine.dispose()
    return tmp_path


def test_the_pack_is_written_without_the_referral_key(planted_db: Path) -> None:
    # The environment has no CSP_ENCRYPTION_KEY: referral counts never need it.
    done = run(planted_db, "report", "--quarter", "2026Q2")
    assert done.returncode == 0, done.stderr
    written = planted_db / "csp-scrutiny-pack-2026Q2.docx"
    assert f"Wrote {written.name}" in done.stdout
    assert "Q2 2026/27 (July to September 2026)" in done.stdout
    data = written.read_bytes()
    doc = Document(io.BytesIO(data))
    assert "Prepared: 30 September 2026" in [p.text for p in doc.paragraphs]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert not any(MARKER.encode() in package.read(n) for n in package.namelist())
    again = run(planted_db, "report", "--quarter", "2026q2")
    assert again.returncode == 0 and written.read_bytes() == data


def test_excel_to_a_named_file(planted_db: Path) -> None:
    out = planted_db / "pack.xlsx"
    done = run(planted_db, "report", "-q", "2026Q2", "--format", "xlsx", "--output", str(out))
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    assert "Referrals" in book.sheetnames
    rows = [r for r in book["Referrals"].iter_rows(values_only=True) if r[0]]
    assert ("Other", 1) in rows  # the August referral


def test_with_no_quarter_it_says_which_it_made(planted_db: Path) -> None:
    done = run(planted_db, "report")
    assert done.returncode == 0, done.stderr
    assert "No --quarter given: making the pack for the current quarter" in done.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--quarter", "autumn"], "is not a quarter"),
        (["--quarter", "2026Q5"], "Q1 is April to June"),
        (["--quarter", "2026Q2", "--format", "pdf"], "is not one of docx, xlsx"),
        (["--quarter", "2099Q1"], "has not started yet"),
    ],
)
def test_mistakes_get_one_kind_line(planted_db: Path, args: list[str], needle: str) -> None:
    done = run(planted_db, "report", *args)
    assert done.returncode != 0
    assert needle in done.stderr and "Traceback" not in done.stderr
