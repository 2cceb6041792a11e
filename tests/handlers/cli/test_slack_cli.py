"""`csp-bot run | serve | start` fail with one clear sentence when Slack is not usable."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

import pytest

from bot.settings import Settings
from tests.fakes.slack import FakeSlack


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from handlers.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING", **env},
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("missing", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
@pytest.mark.parametrize("command", ["start", "run"])
def test_one_token_missing_is_named(settings: Settings, command: str, missing: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}
    del env[missing]
    os.environ.pop(missing, None)  # the settings fixture set it (monkeypatch restores it)
    result = _cli(command, env=env)
    assert result.returncode == 2, result.stderr
    assert f"{missing} is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["run"], ["serve", "--port", "0"]])
def test_unreachable_slack_is_one_sentence(settings: Settings, command: list[str]) -> None:
    env = {
        "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": f"http://127.0.0.1:{_closed_port()}/api/",
    }
    result = _cli(*command, env=env)
    assert result.returncode == 2, result.stderr
    assert "cannot reach Slack at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("command", [["run"], ["serve", "--port", "0"]])
def test_rejected_token_is_one_sentence(
    settings: Settings, fake_slack: FakeSlack, command: list[str]
) -> None:
    fake_slack.fail_next("auth.test", times=5, error="invalid_auth")
    result = _cli(*command, env={"SLACK_APP_TOKEN": "xapp-test"})
    assert result.returncode == 2, result.stderr
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- readiness

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")
READINESS_VARS = ("CSP_SAFEGUARDING_CHANNEL", "CSP_SAFEGUARDING_LEADS")


def _unready(monkeypatch: pytest.MonkeyPatch, *also: str) -> None:
    """No safeguarding channel and no leads (the settings fixture set both)."""
    for name in (*READINESS_VARS, *also):
        monkeypatch.delenv(name, raising=False)


def _warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " WARNING handlers.cli.slack: " in line]


def _assert_readiness_warnings(lines: list[str]) -> None:
    """One WARNING per gap, one sentence each, naming the variable to set."""
    assert len(lines) == 2, lines
    for name, line in zip(READINESS_VARS, sorted(lines, key=lambda x: "LEADS" in x), strict=True):
        assert name in line, line
        message = line.split(": ", 1)[1]
        assert message.endswith(".") and message.count(". ") == 0, message
    assert not any("CSP_ENCRYPTION_KEY" in line for line in lines)  # the key is set


@pytest.mark.parametrize("command", ["start", "shell"])
def test_start_with_no_channel_and_no_leads_warns_and_still_starts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    _unready(monkeypatch, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")  # no tokens: the shell
    result = subprocess.run(
        [*CLI, command],
        input="/csp help\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The shell says it once, in plain words before anything else (not also as log
    # lines), then works as usual.
    assert _warning_lines(result.stderr) == []
    top = result.stdout.split("csp> ", 1)[0]
    assert top.startswith("Safeguarding referrals are not fully set up yet:")
    for name in READINESS_VARS:
        assert name in top
    assert "WARNING" not in top
    assert "csp> /csp help" in result.stdout and "/csp plan" in result.stdout


def test_a_ready_start_warns_of_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    result = subprocess.run(
        [*CLI, "shell"],
        input="quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _warning_lines(result.stderr) == []
    assert "not fully set up" not in result.stdout


def test_run_logs_the_warnings_then_connects(
    settings: Settings,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from typer.testing import CliRunner

    from handlers.cli.main import app as cli_app
    from handlers.socket_mode import OnceSocketModeHandler

    _unready(monkeypatch)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    started: list[bool] = []
    monkeypatch.setattr(OnceSocketModeHandler, "connect", lambda self: None)
    monkeypatch.setattr(OnceSocketModeHandler, "wait", lambda self: started.append(True))
    with caplog.at_level(logging.WARNING, logger="handlers.cli.slack"):
        result = CliRunner().invoke(cli_app, ["run", "--no-scheduler"])
    assert result.exit_code == 0, result.output
    assert started == [True]
    records = [r for r in caplog.records if r.name == "handlers.cli.slack"]
    assert all(r.levelno == logging.WARNING for r in records)
    _assert_readiness_warnings([f"x WARNING handlers.cli.slack: {r.getMessage()}" for r in records])


def test_serve_logs_the_warnings_then_listens(
    settings: Settings, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unready(monkeypatch)
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--no-scheduler"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line.rstrip("\n"))
            if "is listening on" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert seen and "is listening on http://127.0.0.1:" in seen[-1], seen
    _assert_readiness_warnings(_warning_lines("\n".join(seen)))


def test_a_rejected_app_token_is_one_sentence_before_connecting(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("apps.connections.open", times=5, error="invalid_auth")
    result = _cli("run", "--no-scheduler", env={"SLACK_APP_TOKEN": "xapp-bad"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SLACK_APP_TOKEN" in lines[0] and "invalid_auth" in lines[0]
    assert "connected" not in result.stderr
    assert len(fake_slack.calls_to("apps.connections.open")) == 1  # asked once, then stopped
