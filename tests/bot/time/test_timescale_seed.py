"""Reading the seed plan's Timescale cells: every form exactly, and none flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.time.timescale.parse import parse_timescale
from tests.bot.time.timescales import SEED, SEED_EXPECTED


@pytest.mark.parametrize("text", list(SEED_EXPECTED))
def test_seed_forms_parse_exactly(text: str) -> None:
    got = parse_timescale(text)
    assert got == SEED_EXPECTED[text]
    assert got.flag is None
    assert not got.unparsed


def read_seed_timescales(path: Path) -> list[tuple[str, str]]:
    """(objective, timescale) for every plan row; header and continuation rows skipped."""
    rows: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) < 3:
            continue
        objective, timescale = cells[0].strip(), cells[2]
        if objective in ("", "Objective"):
            continue
        rows.append((objective, timescale))
    return rows


def test_every_seed_timescale_reads_without_a_flag() -> None:
    if not SEED.exists():
        pytest.skip(f"seed plan not found at {SEED}")
    rows = read_seed_timescales(SEED)
    assert len(rows) == 13
    for objective, text in rows:
        got = parse_timescale(text)
        assert got.flag is None, (objective, text, got.flag)
        assert not got.unparsed, (objective, text)
        assert got.original == text
        assert got == SEED_EXPECTED[text], objective
