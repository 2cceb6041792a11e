"""Naming the body a date belongs to: "for <Body>" phrases and the bodies before "meetings"."""

from __future__ import annotations

from collections.abc import Sequence

from bot.time.timescale.lexicon import (
    BODY_JOINERS,
    MONTHLY,
    ONGOING,
    QUARTERLY,
    YEARLY,
    Token,
    looks_like_name,
)
from bot.time.timescale.state import Item, Walk, note_frequency


def read_body(tokens: Sequence[Token], i: int) -> tuple[str | None, int]:
    """Read a body's name starting at ``tokens[i]``; return it and the next index."""
    words: list[str] = []
    j = i
    while j < len(tokens):
        tok = tokens[j]
        if looks_like_name(tok):
            words.append(tok.text)
            j += 1
            continue
        if tok.low in BODY_JOINERS and words:
            nxt = tokens[j + 1] if j + 1 < len(tokens) else None
            if nxt is not None and (looks_like_name(nxt) or nxt.low in BODY_JOINERS):
                words.append(tok.text)
                j += 1
                continue
        break
    while words and words[-1].lower() in BODY_JOINERS:
        words.pop()
        j -= 1
    return (" ".join(words) if words else None), j


def assign_body(walk: Walk, body: str) -> None:
    """``for <Body>`` names who the dates read since the last body belong to."""
    pending_items = walk.items[walk.unbodied_from :]
    if pending_items or walk.pending:
        for item in pending_items:
            item.body = body
        walk.unbodied_from = len(walk.items)
        walk.current_body = None
        if walk.pending:  # "March for X 2016" is too tangled to guess
            walk.problems.append(f"could not tell which dates belong to {body}")
    else:
        walk.current_body = body


def meeting_bodies(prefix: Sequence[Token], walk: Walk) -> list[str]:
    """Bodies named before "meetings" ("X Group and Y Board meetings ...")."""
    bodies: list[str] = []
    current: list[str] = []

    def close() -> None:
        while current and current[-1].lower() in BODY_JOINERS:
            current.pop()
        while current and current[0].lower() in BODY_JOINERS:
            current.pop(0)
        if current:
            bodies.append(" ".join(current))
        current.clear()

    for tok in prefix:
        low = tok.low
        if low in {"and", "&", ","}:
            close()
        elif tok.kind == "word" and low in YEARLY | QUARTERLY | MONTHLY | ONGOING:
            note_frequency(walk, low)
        elif low in {"the", "all"} and not current:
            continue
        elif looks_like_name(tok) or (current and low in BODY_JOINERS):
            current.append(tok.text)
        elif tok.kind == "other" and tok.text in ".;:()":
            continue
        else:
            walk.leftovers.append(tok.text)
    close()
    return bodies


def bodies_for(item: Item, bodies: Sequence[str]) -> list[str | None]:
    """The item's own "for <Body>", else the bodies named before "meetings", else none."""
    if item.body:
        return [item.body]
    return [*bodies] if bodies else [None]
