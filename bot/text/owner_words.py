"""`/csp owner` text: the objective, whether to set, add or remove, and every person named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.errors import UsageError
from bot.text.help import USAGE
from bot.text.mentions import mention_id, plain_text

OwnerMode = Literal["set", "add", "remove"]

_MODES: dict[str, OwnerMode] = {
    "set": "set",
    "add": "add",
    "plus": "add",
    "+": "add",
    "remove": "remove",
    "rm": "remove",
    "delete": "remove",
    "drop": "remove",
    "-": "remove",
}
_JOINERS = frozenset({"and", "&", ",", "+"})


@dataclass(frozen=True)
class OwnerWords:
    query: str
    user_ids: tuple[str, ...]
    mode: OwnerMode


def _usage(message: str) -> UsageError:
    return UsageError(message, USAGE["owner"])


def parse_owner_words(rest: str) -> OwnerWords:
    """``dhr <@U1> and <@U2>`` (set), ``dhr add <@U1>``, ``dhr remove <@U1>``."""
    tokens = [t for t in rest.replace(",", " , ").split() if t]
    people: list[str] = []
    while tokens:
        last = tokens[-1]
        found = mention_id(last)
        if found is not None:
            people.insert(0, found)
        elif not (people and last.lower() in _JOINERS):
            break
        tokens.pop()
    if not people:
        raise _usage(
            "End with the person as an @mention (pick them from Slack's list) so I know who "
            "you mean, like `/csp owner dhr @sam`."
        )
    mode: OwnerMode = "set"
    if tokens and tokens[-1].lower() in _MODES:
        mode = _MODES[tokens.pop().lower()]
    query = _unquote(plain_text(" ".join(tokens)))
    if not query:
        raise _usage("Give the objective and then the person, like `/csp owner dhr @sam`.")
    return OwnerWords(query=query, user_ids=tuple(dict.fromkeys(people)), mode=mode)


def _unquote(query: str) -> str:
    query = query.strip()
    for left, right in (('"', '"'), ("“", "”"), ("'", "'")):
        if len(query) >= 2 and query.startswith(left) and query.endswith(right):
            return query[1:-1].strip()
    return query
