"""The README's first session in the shell, start to end, from a fresh database, as the
real `csp-bot` processes a newcomer would run, in the README's own words.

Each step is one terminal command and what is typed at its prompt. The commands and
the lines typed at the prompt must be exactly the README's (in order); form answers,
which the README describes in prose, are the step's own. To add a step, add it
here and in the README together.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.paths import REPO

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")
SECTION = "## A first session in the shell"


@dataclass(frozen=True)
class Step:
    """``command`` run in the terminal with ``typed`` at its prompt. In ``typed``, lines
    from the README are plain strings; form answers are wrapped in :class:`Answers`."""

    what: str
    command: str
    typed: tuple[str | Answers, ...]
    shows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answers:
    """Answers to a form's questions, one per line (the README describes them)."""

    lines: tuple[str, ...] = field(default=())


REFERRAL = Answers(
    (
        "child",  # Child or adult
        "1",  # category: CSE and exploitation
        "routine",  # urgency
        "Alex",  # their name
        "17/03/2017",  # date of birth, day first
        "",  # approximate age
        "",  # address
        "",  # where they are now
        "Bruise seen on the arm",  # what happened
        "",  # when
        "School",  # where
        "Told me",  # how you know
        "Teacher",  # your role
        "School",  # your agency
        "Ext 123",  # how a lead can reach you
        "1",  # consent given
        "",  # lawful reason: not needed
        "",  # actions already taken
    )
)

PROGRESS_FORM = Answers(("dhr", "3", "Review panel met", "", ""))  # objective, green, note

# The name as it is, the partnership channel, no safeguarding channel (leads get direct
# messages), the digest day and time as they are, you as admin, the lead as made.
SETUP_FORM = Answers(("", "C0PARTNER", "", "", "", "ULOCAL", ""))

STEPS: tuple[Step, ...] = (
    Step(
        "start; look around; log progress typed and by the form; make a lead",
        "csp-bot start",
        (
            "/csp help",
            "/csp plan",
            "/csp due this week",
            "/csp progress dhr amber Panel booked for 3 March",
            "/csp progress",
            PROGRESS_FORM,
            "/csp role <@U0LEE> lead",
            "/csp setup",
            SETUP_FORM,
            "quit",
        ),
        shows=(
            "Loaded the seed plan: 13 objectives.",
            "`/csp progress [<objective> [<action number>] [red|amber|green|done] <note>]`",
            "· 13 objectives",
            "Due this week (to ",
            "Progress logged as *Amber* for *Domestic Homicide Reviews*",
            "│ Objective (number): dhr",
            "Progress logged as *Green* for *Domestic Homicide Reviews*",
            ">Review panel met",
            "@U0LEE is now a safeguarding lead",
            "Setup saved for Maldon Community Safety Partnership",
            "• Partnership channel: #C0PARTNER",
            "• Safeguarding leads: @U0LEE",
        ),
    ),
    Step(
        "refer as a member",
        "csp-bot shell --user U0SAM",
        ("/csp refer", REFERRAL, "quit"),
        shows=(
            "Your safeguarding referral *SG-",
            "— DM to <@U0LEE> —",
            "has been received and the safeguarding leads have been alerted",
        ),
    ),
    Step(
        "acknowledge as the lead",
        "csp-bot shell --user U0LEE",
        ("/csp referrals", "1"),
        shows=(
            "Open safeguarding referrals (1)",
            "[1] Acknowledge",
            "— DM to <@U0SAM> —",
            "has been acknowledged by @U0LEE",
            "You acknowledged SG-",
        ),
    ),
)


def readme_lines() -> list[str]:
    """Every line of the README's walkthrough code blocks, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def _steps_as_readme_lines() -> list[str]:
    """What the steps run, as the README should show it."""
    lines = ["export CSP_ENCRYPTION_KEY=$(csp-bot keys generate)"]
    for step in STEPS:
        lines.append(step.command)
        lines += [t for t in step.typed if isinstance(t, str)]
    return lines


def test_the_steps_are_the_readmes_words() -> None:
    assert _steps_as_readme_lines() == readme_lines()


def _fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CSP_", "SLACK_", "DATABASE_URL"))
    }
    env["PYTHONPATH"] = str(REPO)
    env["CSP_LOG_LEVEL"] = "WARNING"
    return env


def _run(
    command: str, stdin: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    args = command.split()[1:]
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=180
    )


@pytest.mark.slow
def test_the_readme_walkthrough_from_a_fresh_database(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    key = _run("csp-bot keys generate", "", env, tmp_path)
    assert key.returncode == 0, key.stderr
    env["CSP_ENCRYPTION_KEY"] = key.stdout.strip()
    assert not (tmp_path / "csp-bot.sqlite3").exists()
    for step in STEPS:
        typed = []
        for item in step.typed:
            typed += list(item.lines) if isinstance(item, Answers) else [item]
        done = _run(step.command, "".join(f"{line}\n" for line in typed), env, tmp_path)
        said = done.stdout + done.stderr
        assert done.returncode == 0, (step.what, said)
        assert "Traceback" not in said, (step.what, said)
        for expected in step.shows:
            assert expected in said, (step.what, expected, said)
        for mark in ("Usage:", "Something went wrong", "Cancelled; nothing was saved", "HTTP 4"):
            assert mark not in said, (step.what, mark, said)
    assert (tmp_path / "csp-bot.sqlite3").exists()  # the README's default database
