"""What a fresh clone holds: no virtualenv, and no link pointing out of the tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in out.decode().split("\0") if name]


def test_a_fresh_clone_can_make_its_own_virtualenv() -> None:
    tracked = _tracked()
    assert not [n for n in tracked if n == ".venv" or n.startswith(".venv/")]
    outside = [
        n
        for n in tracked
        if (REPO / n).is_symlink() and not (REPO / n).resolve().is_relative_to(REPO)
    ]
    assert outside == []
