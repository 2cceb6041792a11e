"""The one walk over a timescale's tokens: dates, months waiting for a year, years and words."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from bot.time.timescale.bodies import assign_body, read_body
from bot.time.timescale.duedates import date_label
from bot.time.timescale.lexicon import (
    ASAP,
    FILLER,
    IGNORED_MARKS,
    MONTH_NAMES,
    TBC,
    Token,
    day_of,
    looks_like_month,
    month_of,
)
from bot.time.timescale.state import Item, Pending, Walk, note_frequency


def _add_explicit(walk: Walk, year: int, month: int, day: int, raw: str) -> None:
    try:
        dt.date(year, month, day)
    except ValueError:
        walk.problems.append(f"'{raw}' is not a real date")
        return
    walk.items.append(Item(year, month, day, date_label(day, month, year), walk.current_body))


def resolve_pending(walk: Walk, year: int, fy_start: int | None, raw: str) -> None:
    """Give the waiting months their year (``fy_start`` for a financial year "2016/17")."""
    for p in walk.pending:
        if p.quarter is not None:
            if fy_start is not None:
                month = (3 * p.quarter + 3 - 1) % 12 + 1
                item_year = fy_start if p.quarter < 4 else fy_start + 1
                label = f"Q{p.quarter} {raw}"
            else:
                month, item_year, label = 3 * p.quarter, year, f"Q{p.quarter} {year}"
                walk.problems.append(_calendar_quarter_question(p.quarter, year))
            walk.items.append(Item(item_year, month, None, label, walk.current_body))
            continue
        item_year = year
        if fy_start is not None:
            item_year = fy_start if p.month >= 4 else fy_start + 1
        if p.day is not None:
            written = f"{p.day} {MONTH_NAMES[p.month - 1]} {item_year}"
            _add_explicit(walk, item_year, p.month, p.day, written)
            continue
        label = date_label(None, p.month, item_year, end_of=p.end_of)
        walk.items.append(Item(item_year, p.month, None, label, walk.current_body))
    walk.pending.clear()


def _calendar_quarter_question(quarter: int, year: int) -> str:
    """ "Q1 2017" names a calendar year, but UK public-sector plans count financial quarters."""
    first = 3 * quarter - 2
    fy_first = first + 3 if quarter < 4 else 1
    fy_year = year if quarter < 4 else year + 1
    return (
        f"'Q{quarter} {year}' may be {MONTH_NAMES[first - 1]} to {MONTH_NAMES[first + 1]} "
        f"{year} or the financial year's quarter {quarter} ({MONTH_NAMES[fy_first - 1]} to "
        f"{MONTH_NAMES[fy_first + 1]} {fy_year}); the earlier was assumed: which is meant?"
    )


def _open_window(walk: Walk) -> None:
    """ "between": the dates read up to the next "and" start a window, they are not due."""
    walk.window_from = (len(walk.items), len(walk.pending))


def _close_window(walk: Walk) -> None:
    """ "and" after "between ... <date>": drop the window's start, keep reading its end."""
    if walk.window_from is None:
        return
    items, pending = walk.window_from
    walk.window_from = None
    if len(walk.items) > items or len(walk.pending) > pending:
        del walk.items[items:]
        del walk.pending[pending:]


def walk_tokens(tokens: Sequence[Token], walk: Walk) -> None:
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        i += 1
        if tok.kind == "iso":
            y, m, d = (int(part) for part in tok.text.split("-"))
            _add_explicit(walk, y, m, d, tok.text)
        elif tok.kind == "numeric":
            d, m, y = (int(part) for part in re.split(r"[/.-]", tok.text))
            _add_explicit(walk, y + 2000 if y < 100 else y, m, d, tok.text)
        elif tok.kind == "fy":
            _read_financial_year(walk, tok)
        elif tok.kind == "year":
            year = int(tok.text)
            before = tokens[i - 2] if i >= 2 else None
            if walk.pending:
                resolve_pending(walk, year, None, tok.text)
            elif before is not None and before.kind == "word" and looks_like_month(before.text):
                # "Septembr 2027": a misspelt month, not "some time in 2027".
                walk.problems.append(
                    f"'{before.text} {tok.text}': '{before.text}' looks like a misspelt month"
                )
            else:
                walk.items.append(Item(year, 12, None, tok.text, walk.current_body, year_only=True))
        elif tok.kind == "quarter":
            walk.pending.append(Pending(month=0, quarter=int(tok.text[1])))
        elif tok.kind == "month":
            walk.pending.append(Pending(month=month_of(tok), end_of=walk.end_of_next))
            walk.end_of_next = False
        elif tok.kind == "day":
            i = _read_day(walk, tokens, i, tok, nxt)
        elif tok.kind == "word":
            i = _read_word(walk, tokens, i, tok, nxt)
        elif tok.text not in IGNORED_MARKS:
            walk.leftovers.append(tok.text)


def _read_financial_year(walk: Walk, tok: Token) -> None:
    first, second = (int(p) for p in re.split(r"\s?[/-]\s?", tok.text))
    start = first
    expected = (start + 1) % 100 if second < 100 else start + 1
    if second != expected:
        walk.problems.append(f"'{tok.text}' is not a financial year")
        return
    raw = f"{start}/{(start + 1) % 100:02d}"
    if walk.pending:
        resolve_pending(walk, start, start, raw)
    else:
        walk.items.append(Item(start + 1, 3, None, raw, walk.current_body, year_only=True))


def _read_day(walk: Walk, tokens: Sequence[Token], i: int, tok: Token, nxt: Token | None) -> int:
    day = day_of(tok)
    if nxt is not None and nxt.kind == "month" and 1 <= day <= 31:
        walk.pending.append(Pending(month=month_of(nxt), day=day))
        return i + 1
    previous = tokens[i - 2] if i >= 2 else None
    if (
        previous is not None
        and previous.kind == "month"
        and walk.pending
        and walk.pending[-1].day is None
        and walk.pending[-1].quarter is None
        and 1 <= day <= 31
    ):
        walk.pending[-1].day = day  # "March 31st 2016"
        return i
    walk.leftovers.append(tok.text)
    return i


# A season before a year is due at the season's end; winter straddles two years.
_SEASON_END = {"spring": 5, "summer": 8, "autumn": 11, "fall": 11}


def _read_word(walk: Walk, tokens: Sequence[Token], i: int, tok: Token, nxt: Token | None) -> int:
    low = tok.low
    if nxt is not None and nxt.kind == "year" and low in (*_SEASON_END, "winter"):
        if low == "winter":
            walk.problems.append(
                f"'{tok.text} {nxt.text}' could mean early {nxt.text} or the winter at its end: "
                "which month is it due by?"
            )
        else:
            walk.pending.append(Pending(month=_SEASON_END[low], end_of=True))
            return i
        return i + 1
    if note_frequency(walk, low):
        pass
    elif low == "between":
        _open_window(walk)
    elif low == "and" and walk.window_from is not None:
        _close_window(walk)
    elif low in TBC:
        walk.tbc = True
    elif low in ASAP:
        walk.asap = True
    elif low == "every" and nxt is not None and nxt.kind in ("month", "day"):
        walk.yearly = True
    elif low == "endof":
        if nxt is not None and nxt.kind == "month":
            walk.end_of_next = True
        elif nxt is not None and nxt.kind == "year" and not walk.pending:
            year = int(nxt.text)  # "by the end of 2022": the year's end is meant
            walk.items.append(Item(year, 12, None, f"end of {year}", walk.current_body))
            return i + 1
        elif nxt is not None and nxt.kind == "quarter":
            pass  # a quarter is due at its end anyway
        else:
            walk.leftovers.append("end of")
    elif low == "for":
        body, j = read_body(tokens, i)
        if body is not None:
            assign_body(walk, body)
            return j
    elif low not in FILLER:
        walk.leftovers.append(tok.text)
    return i
