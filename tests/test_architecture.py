"""The house rules that a linter cannot state: module size, docstrings, one clock, and
no Slack Web API client in the core (import-linter checks layers and cycles)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO

PACKAGES = ("bot", "handlers", "scheduler", "store")
MAX_LINES = 450
# Calls that read the wall clock; only bot/clock.py may make them.
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
# The core builds Block Kit and never talks to Slack.
CLIENT_MODULES = ("slack_sdk.web", "slack_sdk.webhook", "slack_sdk.socket_mode", "slack_sdk.rtm")
CLIENT_NAMES = {"WebClient", "AsyncWebClient", "WebhookClient"}


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", list(_modules()), ids=_name)
def test_each_module_is_a_room_that_says_what_it_owns(path: Path) -> None:
    source = path.read_text()
    lines = source.count("\n")
    assert lines <= MAX_LINES, f"{_name(path)} has {lines} lines (at most {MAX_LINES})"
    if source.strip():
        doc = ast.get_docstring(ast.parse(source))
        assert doc, f"{_name(path)} has no docstring saying what it owns"


def _clock_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            if (owner, node.attr) in CLOCK_READS:
                yield node.lineno, f"{owner}.{node.attr}"


def test_the_clock_is_the_only_source_of_now() -> None:
    found = [
        f"{_name(path)}:{line}: {what}"
        for path in _modules()
        if path != REPO / "bot" / "clock.py"
        for line, what in _clock_reads(ast.parse(path.read_text()))
    ]
    assert not found, "read the injected clock instead:\n" + "\n".join(found)


def test_the_core_has_no_slack_client() -> None:
    found: list[str] = []
    for path in (REPO / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {alias.name for alias in node.names}
                if node.module.startswith(CLIENT_MODULES) or (
                    node.module.startswith("slack_sdk") and names & CLIENT_NAMES
                ):
                    found.append(f"{_name(path)}:{node.lineno}: from {node.module}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{_name(path)}:{node.lineno}: import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith(CLIENT_MODULES)
                ]
    assert not found, "\n".join(found)
