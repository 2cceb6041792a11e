"""`csp-bot shell`: the real app driven from text, printing what Slack would show."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from bot.context import AppContext
from handlers.shell import Shell


def run_shell(ctx: AppContext, script: str, user: str = "UADMIN") -> str:
    out = io.StringIO()
    Shell(ctx, user_id=user).run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def test_commands_buttons_and_home(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp help\n/csp show strat\n2\n/csp progress dhr amber Panel booked\nhome\n"
        "/csp nonsense\n9\nquit\n/csp help\n",
    )
    assert "/csp progress" in text
    assert "[1] Strategic Assessment" in text
    assert "Strategic management of partnership functions\n=====" in text  # button 2 pressed
    assert "Progress logged as *Amber*" in text
    assert "— posted in #C0PARTNER —" in text
    assert "— App Home —" in text
    assert "I don't know the command `nonsense`" in text and "Usage: `/csp help`" in text
    assert "There is no button 9" in text
    assert text.count("csp> /csp help") == 1  # nothing after quit


def test_modal_as_a_form_with_field_errors(seeded_ctx: AppContext) -> None:
    # objective 7 (DHR), status 2 (amber), note, a future date (error), no link;
    # then the date again, left empty.
    script = "/csp progress\n7\n2\nPanel booked\n2999-01-01\n\n\n/csp show dhr\n"
    text = run_shell(seeded_ctx, script)
    assert "! The date can't be in the future" in text
    assert "Progress logged as *Amber* for *Domestic Homicide Reviews*" in text
    assert "Panel booked" in text.split("csp> /csp show dhr")[1]


def test_modal_cancelled_at_end_of_input(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp progress\n7\n")
    assert "Cancelled; nothing was saved." in text


def test_cli_shell_with_piped_stdin(seeded_ctx: AppContext) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "shell"],
        input="/csp help\n/csp due\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "csp> /csp due" in result.stdout
    assert "Overdue" in result.stdout
    assert "Traceback" not in result.stderr
