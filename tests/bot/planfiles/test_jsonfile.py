"""JSON plan files: our export, lists detected by content, and the problems they name."""

from __future__ import annotations

import json

import pytest

from bot.planfiles.read import read_plan
from tests.bot.planfiles.plans import problems_of
from tests.paths import DATA


def test_json_export_fixture_ignores_extra_keys() -> None:
    plan = read_plan((DATA / "plan-export.json").read_bytes(), "plan-export.json")
    assert plan.format == "json"
    assert plan.title == "Maldon Community Safety Partnership"
    assessment, prevent = plan.rows
    assert assessment.owners == ["<@U0AAA1111>"]
    assert assessment.statutory_basis == "Crime and Disorder Act 1998 s.6"
    assert (prevent.progress, prevent.statutory_basis, prevent.source_line) == (
        "Training booked",
        None,
        2,
    )


def test_json_list_detected_by_content() -> None:
    doc = [{"title": "A", "action": "a", "timescale": "t", "owners": "U1, U2"}]
    plan = read_plan(json.dumps(doc).encode(), "upload")
    assert plan.format == "json"
    assert plan.rows[0].owners == ["U1", "U2"]


def test_json_problems_name_the_entry() -> None:
    doc = {"objectives": [{"title": "A"}, {"action": "no title"}, "x", {"title": "a"}]}
    error = problems_of(json.dumps(doc).encode(), "plan.json")
    assert [p.line for p in error.problems] == [2, 3, 4]
    assert str(error).startswith('plan.json entry 2: this entry has no "title"')
    assert "entry 1" in error.problems[2].message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"plan": []}', 'no "objectives" list'),
        (b'"just text"', "is not a plan"),
        (b"[]", "no objectives"),
        (b"[" * 100_000, "is not valid JSON"),
    ],
)
def test_bad_json_is_explained(data: bytes, expected: str) -> None:
    assert expected in str(problems_of(data, "plan.json"))


def test_text_that_only_looks_like_json_is_read_as_a_table() -> None:
    plan = read_plan(b"[Draft] plan\nObjective\tAction\nA\ta\n", "plan.txt")
    assert (plan.title, plan.format) == ("[Draft] plan", "seed")
