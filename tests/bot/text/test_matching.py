"""Forgiving objective matching."""

from __future__ import annotations

import pytest

from bot.text.matching import initials, match_objective

SEED = [
    (1, "Strategic Assessment"),
    (2, "Partnership Plan"),
    (3, "Overview and Scrutiny Committee"),
    (4, "Strategic management of partnership functions"),
    (5, "Public engagement"),
    (6, "Perceptions of crime survey"),
    (7, "Domestic Homicide Reviews"),
    (8, "PREVENT"),
    (9, "Human Slavery/Trafficking"),
    (10, "Female Genital Mutilation"),
    (11, "Safeguarding"),
    (12, "Child Sexual Exploitation"),
    (13, "Reducing Reoffending"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dhr", 7),
        ("DHR", 7),
        ("fgm", 10),
        ("cse", 12),
        ("Domestic Homicide Reviews", 7),
        ("domestic", 7),
        ("homicide", 7),
        ("domestc homicde", 7),
        ("safgaurding", 11),
        ("prevnet", 8),
        ("trafficking", 9),
        ("reducing re-offending", 13),
        ("overview scrutiny", 3),
        ("7", 7),
        ("fmg", 10),
    ],
)
def test_one_match(query: str, expected: int) -> None:
    found = match_objective(query, SEED)
    assert found.kind == "one"
    assert found.single is not None and found.single[0] == expected


def test_several_matches_in_plan_order() -> None:
    found = match_objective("strat", SEED)
    assert found.kind == "several"
    assert [oid for oid, _ in found.objectives] == [1, 4]


def test_none_gives_closest_suggestions() -> None:
    found = match_objective("zzz strategic", SEED)
    assert found.kind == "none"
    assert found.single is None
    assert {oid for oid, _ in found.suggestions} >= {1}


def test_nothing_close_gives_no_made_up_suggestions() -> None:
    found = match_objective("qwxz", SEED)
    assert found.kind == "none"


@pytest.mark.parametrize("query", ["", "   ", "!!!"])
def test_empty_query(query: str) -> None:
    assert match_objective(query, SEED).kind == "none"


def test_empty_plan() -> None:
    assert match_objective("dhr", []).kind == "none"


def test_initials_skip_small_words() -> None:
    assert "osc" in initials("Overview and Scrutiny Committee")
    assert "oasc" in initials("Overview and Scrutiny Committee")
    assert "csp" in initials("Community Safety Partnership (CSP) plan")


def test_large_plan_is_quick_and_bounded() -> None:
    big = [(i, f"Objective number {i} about topic {i % 37}") for i in range(1, 1001)]
    found = match_objective("topic", big)
    assert found.kind == "several"
    assert len(found.objectives) <= 10


BODIES = ["Maldon Responsible Authorities Group", "One Chelmsford Board"]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("RAG", 0),
        ("mrag", 0),
        ("ocb", 1),
        ("One Chelmsford Board", 1),
        ("one chelmsford", 1),
        ("Maldn Responsible", 0),
        ("chelmsfrd", 1),
    ],
)
def test_bodies_match_loosely(query: str, index: int) -> None:
    from bot.text.matching import match_body

    found = match_body(query, BODIES)
    assert found.single is not None and found.single[0] == index


def test_bodies_several_and_none() -> None:
    from bot.text.matching import match_body

    several = match_body("maldon", ["Maldon Board", "Maldon Group"])
    assert several.kind == "several" and len(several.objectives) == 2
    none = match_body("zzz", BODIES)
    assert none.kind == "none" and [b for _, b in none.suggestions] == BODIES


def test_split_objective_finds_where_the_name_ends() -> None:
    from bot.text.matching import split_objective

    plan = [
        (1, "Domestic Homicide Reviews"),
        (2, "Strategic Assessment"),
        (3, "Strategic management of partnership functions"),
    ]
    assert split_objective("dhr Panel booked", plan) == ("dhr", "Panel booked")
    assert split_objective("domestic homicide reviews panel met", plan) == (
        "domestic homicide reviews",
        "panel met",
    )
    assert split_objective("strategic management Panel booked", plan) == (
        "strategic management",
        "Panel booked",
    )
    assert split_objective("dhr", plan) is None
    assert split_objective("qqq zzz", plan) is None


def test_answers_for_a_tuple_of_choices_are_remembered_and_never_cross_tuples() -> None:
    from bot.text import matching

    first = ((1, "Domestic Homicide Reviews"), (2, "Prevent duty"))
    assert matching.match_objective("dhr", first) is matching.match_objective("dhr", first)
    # A list is matched afresh every time (it could change between calls).
    as_list = list(first)
    assert matching.match_objective("dhr", as_list) == matching.match_objective("dhr", first)
    # Another tuple (here: the plan after an edit) is never answered from the first's.
    for _ in range(50):
        edited = ((1, "Serious violence duty"), (2, "Prevent duty"))
        assert matching.match_objective("dhr", edited).kind != "one"
        assert matching.match_objective("prevent", edited).single == (2, "Prevent duty")
    matching._ANSWERS.clear()
    many = tuple((n, f"Objective {n}") for n in range(matching.ANSWERS_LIMIT + 10))
    for n in range(0, len(many), 97):
        assert matching.match_objective(f"objective {n}", many).single == many[n]
    assert len(matching._ANSWERS) <= matching.ANSWERS_LIMIT
