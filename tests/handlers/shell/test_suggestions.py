"""Advice that works when followed: every command the bot suggests in a shell session,
pasted as is (REF being the reference it names), succeeds."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from bot.context import AppContext
from handlers.shell.shell import Shell
from tests.handlers.shell.test_shell import ERROR_MARKS, REFERRAL_ANSWERS

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")
SCENARIO = (
    "/csp help\n/csp plan\n/csp due\n/csp due this week\n/csp show dhr\n"
    "/csp progress dhr amber Panel booked\n/csp progress fgm done Training delivered\n"
    "/csp digest\n/csp meetings\n/csp referrals\n/csp owner prevent add <@U0SAM>\n"
    "/csp progress overview done\n/csp progress dhr gren Panel met\n/csp nonsense\n"
)
_CODE = re.compile(r"`([^`\n]+)`")
_PLACEHOLDER = re.compile(r"[<>\[\]|…]|@(?!U0)|\bREF\b|&lt;|&gt;")


def _env() -> dict[str, str]:
    env = {**os.environ, "CSP_LOG_LEVEL": "WARNING"}
    for name in ("CSP_ADMINS", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        env.pop(name, None)  # no admin configured, no Slack: the shell acts as ULOCAL
    return env


def _local_shell(stdin: str) -> str:
    done = subprocess.run(
        [*CLI, "shell"], input=stdin, capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _refer(ctx: AppContext) -> str:
    out = io.StringIO()
    Shell(ctx, user_id="U0MEMBER").run(
        io.StringIO("/csp refer\n" + REFERRAL_ANSWERS), out, interactive=False
    )
    found = re.search(r"SG-\d{4}-\d{4}", out.getvalue())
    assert found, out.getvalue()
    return found.group(0)


def test_the_local_admin_is_told_an_export_command_that_works(seeded_ctx: AppContext) -> None:
    reference = _refer(seeded_ctx)
    said = _local_shell("/csp referrals\n")
    assert "csp-bot referrals export REF --as ULOCAL" in said
    done = subprocess.run(
        [*CLI, "referrals", "export", reference, "--as", "ULOCAL"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert reference in done.stdout


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_every_suggested_command_succeeds_when_pasted(seeded_ctx: AppContext) -> None:
    reference = _refer(seeded_ctx)
    said = _local_shell(SCENARIO)
    suggested = list(dict.fromkeys(_CODE.findall(said)))
    cli = [c for c in suggested if c.startswith("csp-bot ")]
    assert any("referrals export" in c for c in cli), suggested
    for command in cli:
        args = command.replace("REF", reference).split()[1:]
        if _PLACEHOLDER.search(" ".join(args)) or "rollover" in args:
            continue  # a pattern to fill in, or a change of plan year the test cannot undo
        done = subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=_env(), timeout=120
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    typed = [c for c in suggested if c.startswith("/csp ") and not _PLACEHOLDER.search(c)]
    assert len(typed) >= 5, suggested
    for command in typed:  # one session each: a command that opens a form gets no answers
        out = io.StringIO()
        Shell(seeded_ctx, user_id="ULOCAL", local_admin=True).run(
            io.StringIO(command + "\n"), out, interactive=False
        )
        answer = out.getvalue()
        assert not any(mark in answer for mark in ERROR_MARKS), (command, answer)
