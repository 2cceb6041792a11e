"""`/csp owner` as people type it: set, add and remove, with every person named."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.text import commands as c
from bot.text.help import USAGE


def test_two_people_joined_by_and_set_both() -> None:
    assert c.parse_command("owner prevent <@U0AAA> and <@U0BBB>") == c.Owner(
        query="prevent", user_ids=("U0AAA", "U0BBB"), mode="set"
    )


def test_commas_and_names_after_the_id_are_read() -> None:
    assert c.parse_command("owner prevent <@U0AAA|ann>, <@U0BBB|bob> & <@U0CCC>") == c.Owner(
        query="prevent", user_ids=("U0AAA", "U0BBB", "U0CCC"), mode="set"
    )


def test_add_and_remove() -> None:
    assert c.parse_command("owner prevent add <@U0BBB>") == c.Owner(
        query="prevent", user_ids=("U0BBB",), mode="add"
    )
    assert c.parse_command("owner prevent remove <@U0BBB>") == c.Owner(
        query="prevent", user_ids=("U0BBB",), mode="remove"
    )
    assert c.parse_command('owner "Domestic Homicide Reviews" remove <@U0A> and <@U0B>') == (
        c.Owner(query="Domestic Homicide Reviews", user_ids=("U0A", "U0B"), mode="remove")
    )


def test_the_same_person_twice_counts_once() -> None:
    parsed = c.parse_command("owner dhr <@U0AAA> and <@U0AAA>")
    assert isinstance(parsed, c.Owner) and parsed.user_ids == ("U0AAA",)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("owner prevent remove", "@mention"),
        ("owner remove <@U0BBB>", "Give the objective"),
        ("owner <@U0BBB>", "Give the objective"),
        ("owner dhr and", "@mention"),
    ],
)
def test_bad_forms_say_what_to_type(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=said) as err:
        c.parse_command(text)
    assert err.value.usage == USAGE["owner"]
    assert "add|remove" in USAGE["owner"]
