"""Whole numbers as people type them: plain digits 0-9 only."""

from __future__ import annotations


def whole_number(text: str) -> int | None:
    """``text`` as a whole number, or None. Only ASCII digits count: "²" or "٣" pass
    ``str.isdigit`` but are not a page or a number of days anyone meant."""
    text = text.strip()
    if text and text.isascii() and text.isdigit():
        return int(text)
    return None


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, made plural unless it is one: "1 objective", "2 objectives",
    "3 progress entries" (``many`` for the plural a trailing "s" does not make)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
