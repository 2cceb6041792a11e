"""`csp-bot calendar export|url|rotate` and the workbook export, run as an operator would."""

from __future__ import annotations

import io
from pathlib import Path

import icalendar
import openpyxl
import pytest
from typer.testing import CliRunner, Result

from bot.context import AppContext
from bot.plan.members import ensure_partnership
from handlers.cli.main import app as cli_app
from store.db import session_scope
from tests.bot.plan.exported import export_plan_fixture
from tests.conftest import NOW
from tests.fakes.slack import FakeSlack


def run(*args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args))


@pytest.fixture
def planned(ctx: AppContext) -> AppContext:
    with session_scope(ctx.sessions) as session:
        export_plan_fixture(session, ensure_partnership(session, ctx.settings, now=NOW))
    return ctx


def test_calendar_export_writes_an_ics_file(planned: AppContext, tmp_path: Path) -> None:
    out = tmp_path / "plan.ics"
    result = run("calendar", "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert any(str(e["SUMMARY"]) == "Due: Strategic Assessment" for e in events)
    to_stdout = run("calendar", "export")
    assert to_stdout.stdout.startswith("BEGIN:VCALENDAR")


def test_calendar_url_prints_the_same_link_until_rotated(
    planned: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run("calendar", "url")
    assert first.exit_code == 0, first.output
    path = first.stdout.strip()
    assert path.startswith("/calendar/") and path.endswith(".ics")
    assert "CSP_PUBLIC_URL" in first.stderr  # says how to get the full link
    monkeypatch.setenv("CSP_PUBLIC_URL", "https://csp.example.org/")
    full = run("calendar", "url")
    assert full.stdout.strip() == f"https://csp.example.org{path}"
    rotated = run("calendar", "rotate")
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert new.startswith("https://csp.example.org/calendar/") and new != full.stdout.strip()
    assert "old link no longer works" in rotated.stderr
    assert run("calendar", "url").stdout.strip() == new


def test_a_bad_public_url_stops_with_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSP_PUBLIC_URL", "csp.example.org")
    result = run("calendar", "url")
    assert result.exit_code == 2
    assert "CSP_PUBLIC_URL" in result.stderr and "Traceback" not in result.output


def test_plan_export_xlsx_shows_owners_by_their_slack_names(
    planned: AppContext, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.set_user("U0SAM", profile={"display_name": "Sam Officer"})
    out = tmp_path / "plan.xlsx"
    result = run("plan", "export", "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.output
    plan = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["Plan"]
    owners = next(
        r[3].value for r in plan.iter_rows(min_row=3) if r[0].value == "Strategic Assessment"
    )
    assert owners == "Sam Officer; User U0NONAME"
    assert {c.args.get("user") for c in fake_slack.calls_to("users.info")} == {"U0SAM", "U0NONAME"}
    cached = run("plan", "export", "--format", "xlsx", "--cached-names", "--output", str(out))
    assert cached.exit_code == 0, cached.output
    assert len(fake_slack.calls_to("users.info")) == 2
