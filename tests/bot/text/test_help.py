"""/csp help lines: one per command."""

from __future__ import annotations

from bot.text.help import HELP


def test_every_command_has_one_help_line() -> None:
    names = [line.command for line in HELP]
    assert len(names) == len(set(names))
    assert {"help", "plan", "show", "due", "meetings", "progress", "owner", "role"} <= set(names)
