"""The seed plan: the Word table as tab-separated text, and the copy shipped with the bot."""

from __future__ import annotations

import pytest

from bot.planfiles.read import read_plan
from bot.planfiles.seed import load_seed_plan, seed_plan_bytes
from tests.bot.planfiles.plans import (
    REAL_SEED,
    SEED_HEADER,
    SEED_OBJECTIVES,
    SEED_TITLE,
    assert_is_seed,
    seed_bytes,
)


def test_seed_copy_parses_to_the_thirteen_objectives() -> None:
    assert_is_seed(read_plan(seed_bytes(), "maldon-csp-statutory-functions-2016.txt"))


@pytest.mark.skipif(not REAL_SEED.exists(), reason="shared seed not present")
def test_real_seed_parses_to_the_thirteen_objectives() -> None:
    assert REAL_SEED.read_bytes() == seed_bytes()
    assert_is_seed(read_plan(REAL_SEED.read_bytes(), REAL_SEED.name))


def test_seed_shape_is_what_the_parser_is_tested_against() -> None:
    data = seed_bytes()
    assert data.startswith(b"\n\n" + SEED_TITLE.encode() + b"\n\n" + SEED_HEADER.encode())
    assert not data.endswith(b"\n")
    assert data.count(SEED_HEADER.encode()) == 2
    assert b"\n\tpartner agencies and make recommendations for future practice.\t\t\n" in data


def test_shipped_seed_is_the_same_bytes_and_loads_with_statutory_basis() -> None:
    assert seed_plan_bytes() == seed_bytes()
    plan = load_seed_plan()
    assert [row.title for row in plan.rows] == SEED_OBJECTIVES
    basis = {row.title: row.statutory_basis for row in plan.rows}
    assert basis["Domestic Homicide Reviews"] == "Domestic Violence, Crime and Victims Act 2004 s.9"
    assert "Modern Slavery Act 2015 s.52" in str(basis["Human Slavery/Trafficking"])
    assert basis["Public engagement"] is None  # no statute named for it: left for a person
    assert all(
        row.statutory_basis is None for row in load_seed_plan(with_statutory_basis=False).rows
    )


def test_seed_with_no_extension_is_detected_by_its_tabs() -> None:
    assert_is_seed(read_plan(seed_bytes(), "plan"))
