"""Forgiving objective matching: any case, prefixes, initials, small typos.

``match_objective("dhr", choices)`` finds "Domestic Homicide Reviews". The answer is
one objective, several (the caller offers buttons), or none (with the closest
suggestions). Pure: the caller passes ``(id, title)`` pairs in plan order.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process, utils

from bot.text.numbers import whole_number

Choice = tuple[int, str]

_STOP = frozenset({"and", "of", "the", "for", "to", "a", "an", "in", "on", "&"})
_WORD = re.compile(r"[a-z0-9]+")
FUZZY_ACCEPT = 86.0  # WRatio at or above this counts as a match
FUZZY_CLEAR_LEAD = 8.0  # ...and it must beat the next best by this much to be "the" match
SUGGEST_MIN = 45.0
WORD_TYPO_RATIO = 80.0
MAX_SEVERAL = 10


@dataclass(frozen=True)
class Match:
    kind: Literal["one", "several", "none"]
    objectives: tuple[Choice, ...] = ()
    suggestions: tuple[Choice, ...] = field(default=())

    @property
    def single(self) -> Choice | None:
        return self.objectives[0] if self.kind == "one" else None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@functools.lru_cache(maxsize=8192)  # titles are matched against every request's words
def _normal(text: str) -> str:
    return " ".join(_words(text))


def initials(title: str) -> set[str]:
    """Acronyms a person might type: with and without small words ("dhr", "smopf")."""
    return set(_initials(title))


@functools.lru_cache(maxsize=8192)
def _initials(title: str) -> frozenset[str]:
    words = _words(title)
    found = {"".join(w[0] for w in words)}
    content = [w for w in words if w not in _STOP]
    if content:
        found.add("".join(w[0] for w in content))
    # An acronym written in the title itself, e.g. "Community Safety Partnership (CSP)".
    found.update(a.lower() for a in re.findall(r"\b[A-Z]{2,6}\b", title))
    return frozenset(f for f in found if len(f) >= 2)


def _word_prefix(query_words: list[str], title_words: list[str]) -> bool:
    """Every query word starts some title word, in order."""
    position = 0
    for word in query_words:
        while position < len(title_words) and not title_words[position].startswith(word):
            position += 1
        if position == len(title_words):
            return False
        position += 1
    return True


# Answers for choices passed as a tuple (the plan snapshot's, the same object until the
# plan changes), by (query, the tuple's id); the tuple is kept with its answers, so an id
# is never mistaken for a later tuple's.
_ANSWERS: dict[tuple[str, int], tuple[tuple[Choice, ...], Match]] = {}
_ANSWERS_LOCK = threading.Lock()
ANSWERS_LIMIT = 4096


def match_objective(query: str, choices: Sequence[Choice]) -> Match:
    """Find the objective(s) ``query`` means among ``choices``.

    Pure, so answers for a tuple of choices (which cannot change) are remembered: many
    people typing the same objective cost one search."""
    if not isinstance(choices, tuple):
        return _match(query, choices)
    key = (query, id(choices))
    hit = _ANSWERS.get(key)
    if hit is not None and hit[0] is choices:
        return hit[1]
    found = _match(query, choices)
    with _ANSWERS_LOCK:
        if len(_ANSWERS) >= ANSWERS_LIMIT:
            _ANSWERS.clear()
        _ANSWERS[key] = (choices, found)
    return found


def _match(query: str, choices: Sequence[Choice]) -> Match:
    wanted = _normal(query)
    if not wanted or not choices:
        return Match("none", (), _closest(wanted, choices))
    digits = wanted.removeprefix("id ").strip()
    number = whole_number(digits)
    if number is not None:
        by_id = [c for c in choices if c[0] == number]
        if by_id:
            return Match("one", (by_id[0],))
    exact = [c for c in choices if _normal(c[1]) == wanted]
    if exact:
        return Match("one", (exact[0],))
    compact = wanted.replace(" ", "")
    by_initials = [c for c in choices if compact in _initials(c[1])]
    if by_initials:
        return _result(by_initials)
    if 2 <= len(compact) <= 6 and " " not in wanted:
        shuffled = [
            c for c in choices if any(sorted(compact) == sorted(i) for i in _initials(c[1]))
        ]
        if shuffled:
            return _result(shuffled)
    starts = [c for c in choices if _normal(c[1]).startswith(wanted)]
    if starts:
        return _result(starts)
    query_words = wanted.split()
    if min(len(w) for w in query_words) >= 2:
        prefixed = [c for c in choices if _word_prefix(query_words, _words(c[1]))]
        if prefixed:
            return _result(prefixed)
    if len(compact) >= 3:
        typo = [c for c in choices if _words_close(query_words, _words(c[1]))]
        if typo:
            return _result(typo)
        fuzzy = _fuzzy(wanted, choices)
        if fuzzy is not None:
            return fuzzy
    return Match("none", (), _closest(wanted, choices))


def _words_close(query_words: list[str], title_words: list[str]) -> bool:
    """Every query word (of 4+ letters) is a small typo away from some title word,
    or the start of one."""
    if not query_words or any(len(w) < 4 for w in query_words):
        return False
    for word in query_words:
        if not any(
            fuzz.ratio(word, candidate) >= WORD_TYPO_RATIO
            or fuzz.ratio(word, candidate[: len(word) + 1]) >= WORD_TYPO_RATIO
            for candidate in title_words
        ):
            return False
    return True


def _result(found: Sequence[Choice]) -> Match:
    if len(found) == 1:
        return Match("one", (found[0],))
    return Match("several", tuple(found[:MAX_SEVERAL]))


def _fuzzy(wanted: str, choices: Sequence[Choice]) -> Match | None:
    titles = [_normal(c[1]) for c in choices]
    scored = process.extract(
        wanted, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=None
    )
    good = [(choices[index], score) for _, score, index in scored if score >= FUZZY_ACCEPT]
    if not good:
        return None
    good.sort(key=lambda pair: -pair[1])
    best_score = good[0][1]
    close = [c for c, score in good if best_score - score < FUZZY_CLEAR_LEAD]
    if len(close) == 1:
        return Match("one", (close[0],))
    order = {c[0]: i for i, c in enumerate(choices)}
    return Match("several", tuple(sorted(close, key=lambda c: order[c[0]])[:MAX_SEVERAL]))


def _closest(wanted: str, choices: Sequence[Choice], limit: int = 3) -> tuple[Choice, ...]:
    if not wanted or not choices:
        return tuple(choices[:limit])
    titles = [_normal(c[1]) for c in choices]
    scored = process.extract(
        wanted, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit
    )
    picked = tuple(choices[index] for _, score, index in scored if score >= SUGGEST_MIN)
    return picked


def body_initials(name: str) -> set[str]:
    """Initials a person might use for a meeting body: those of the whole name and
    of the words after a leading place name ("rag" and "mrag" for "Maldon
    Responsible Authorities Group")."""
    found = initials(name)
    words = [w for w in _words(name) if w not in _STOP]
    for start in range(1, len(words) - 1):
        found.add("".join(w[0] for w in words[start:]))
    return {f for f in found if len(f) >= 2}


def match_body(query: str, bodies: Sequence[str]) -> Match:
    """Find the meeting body ``query`` means, as forgivingly as objectives: any
    case, the start of the name, initials (also of the words after a place name)
    and small typos. Choices in the answer carry the body's index in ``bodies``."""
    choices = list(enumerate(bodies))
    wanted = _normal(query)
    if not wanted or not choices:
        return Match("none", (), tuple(choices[:MAX_SEVERAL]))
    exact = [c for c in choices if _normal(c[1]) == wanted]
    if exact:
        return Match("one", (exact[0],))
    compact = wanted.replace(" ", "")
    by_initials = [c for c in choices if compact in body_initials(c[1])]
    if by_initials:
        return _result(by_initials)
    if whole_number(wanted) is not None:  # a number is never a body's index
        return Match("none", (), tuple(choices[:MAX_SEVERAL]))
    found = match_objective(query, choices)
    if found.kind == "none":
        return Match("none", (), tuple(choices[:MAX_SEVERAL]))
    return found


def split_objective(text: str, choices: Sequence[Choice]) -> tuple[str, str] | None:
    """Split "dhr Panel booked" into (objective words, note) using the plan: the
    shortest start of ``text`` that names one objective (or several), extended while
    the next words still start words of that objective's title. None when no start
    of ``text`` names any objective or nothing is left for the note."""
    tokens = text.split()
    for cut in range(1, len(tokens)):
        found = match_objective(" ".join(tokens[:cut]), choices)
        if found.kind == "none":
            continue
        while found.kind == "several" and cut < len(tokens) - 1:
            narrower = match_objective(" ".join(tokens[: cut + 1]), choices)
            if narrower.kind == "none":
                break
            cut, found = cut + 1, narrower
        if found.single is not None:
            title_words = _words(found.single[1])
            while cut < len(tokens) - 1:
                longer = _words(" ".join(tokens[: cut + 1]))
                if not longer or not _word_prefix(longer, title_words):
                    break
                cut += 1
        return " ".join(tokens[:cut]), " ".join(tokens[cut:])
    return None


def names_only(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The one objective ``text`` names with nothing left over for a note ("DHR",
    "domestic homicide reviews"), else None ("dhr Panel booked" is a name and a note)."""
    found = match_objective(text, choices)
    if found.single is None:
        return None
    if split_objective(text, choices) is None:
        return found.single
    words = _words(text)
    return found.single if words and _word_prefix(words, _words(found.single[1])) else None


_TRAILING_NUMBER = re.compile(r"^(?P<query>.*?\S)\s+(?:action\s+)?#?(?P<number>\d{1,3})$", re.I)


def action_number_of(query: str, choices: Sequence[Choice]) -> tuple[str, int | None]:
    """ "prevent 2" -> ("prevent", 2): an action's number after the objective's words
    (also "prevent action 2", "prevent #2"). A title that itself ends in a number
    ("Priority 2") keeps it: the number is split off only when the words without it
    match an objective and the whole does not match one exactly."""
    found = _TRAILING_NUMBER.match(query.strip())
    if found is None:
        return query, None
    whole = match_objective(query, choices)
    if whole.single is not None and _normal(whole.single[1]) == _normal(query):
        return query, None
    rest = found.group("query")
    if match_objective(rest, choices).kind == "none":
        return query, None
    return rest, int(found.group("number"))
