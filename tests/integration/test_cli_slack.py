"""`csp-bot run | serve | start` fail with one clear sentence when Slack is not usable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from bot.settings import Settings
from tests.fakeslack import FakeSlack


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
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
