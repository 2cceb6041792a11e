"""Real timescale cells from published UK plans: no wrong dates, most dated right, few flagged."""

from __future__ import annotations

import calendar
import datetime as dt
import tomllib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from bot.time.timescale.model import Timescale
from bot.time.timescale.parse import parse_timescale
from bot.time.workdays import default_calendar
from tests.paths import DATA

CORPUS = DATA / "timescale-corpus.toml"
KINDS = {"deadline", "recurring", "ongoing", "person"}


@dataclass(frozen=True)
class Cell:
    source: str
    text: str
    plan_start: int
    kind: str
    due: tuple[str, ...]
    occurs: tuple[str, ...]
    starts: str | None
    check: bool
    ongoing: bool  # the work continues (alone, or after its dates)


def load() -> tuple[dict[str, dict[str, Any]], list[Cell]]:
    data = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    sources = {s["id"]: s for s in data["source"]}
    cells = []
    for raw in data["cell"]:
        reading = raw["reading"]
        cells.append(
            Cell(
                source=raw["source"],
                text=raw["text"],
                plan_start=raw["plan_start"],
                kind=reading["kind"],
                due=tuple(reading.get("due", ())),
                occurs=tuple(reading.get("occurs", ())),
                starts=reading.get("starts"),
                check=bool(reading.get("check", False)),
                ongoing=reading["kind"] == "ongoing" or bool(reading.get("ongoing", False)),
            )
        )
    return sources, cells


def read(cell: Cell) -> Timescale:
    return parse_timescale(cell.text, calendar=default_calendar(), reference_year=cell.plan_start)


def dates_read(cell: Cell, got: Timescale) -> list[tuple[str, str]]:
    """Every date the reading gives, as (what, "YYYY-MM" or "YYYY-MM-DD")."""
    out: list[tuple[str, str]] = []
    for m in got.milestones:
        out.append(("due", m.due_on.strftime("%Y-%m" if m.month_only else "%Y-%m-%d")))
    start = dt.date(cell.plan_start, 4, 1)
    for r in got.recurrences:
        for day in r.next_occurrences(start, 3):
            out.append(("occurs", day.strftime("%Y-%m" if r.month_only else "%Y-%m-%d")))
    for slot in got.meetings:
        out.append(("meeting", slot.month.strftime("%Y-%m")))
    return out


def due_day(when: str) -> str:
    """ "YYYY-MM" (some time in that month) is due on the month's last day."""
    if len(when) != 7:
        return when
    year, month = (int(part) for part in when.split("-"))
    return str(dt.date(year, month, calendar.monthrange(year, month)[1]))


def wrong_dates(cell: Cell, got: Timescale) -> list[str]:
    """Dates the reading gives that the cell does not mean."""
    allowed = {("due", due_day(d)) for d in cell.due} | {
        ("occurs", due_day(d)) for d in cell.occurs
    }
    return [
        f"{what} {when}"
        for what, when in dates_read(cell, got)
        if (what, due_day(when)) not in allowed
    ]


def dated_right(cell: Cell, got: Timescale) -> bool:
    if cell.kind == "person" or wrong_dates(cell, got):
        return False
    read_dates = [(what, due_day(when)) for what, when in dates_read(cell, got)]
    expected = [("due", due_day(d)) for d in cell.due] + [
        ("occurs", due_day(d)) for d in cell.occurs[:3]
    ]
    if sorted(set(read_dates)) != sorted(set(expected)):
        return False
    if got.ongoing != cell.ongoing:
        return False
    return cell.starts is None or str(got.starts_on) == cell.starts


def needs_person(got: Timescale) -> bool:
    return got.flag is not None or got.unparsed


def test_the_corpus_is_well_formed() -> None:
    sources, cells = load()
    assert len(sources) >= 10
    for source in sources.values():
        assert source["publisher"] and source["title"] and source["url"].startswith("http")
    for cell in cells:
        assert cell.source in sources, cell
        assert cell.kind in KINDS, cell
        assert cell.text.strip(), cell
        if cell.kind == "deadline":
            assert cell.due, cell
        if cell.kind == "recurring":
            assert len(cell.occurs) == 3, cell


def test_corpus_counts() -> None:
    """Counts over the real cells; the bars are the product's: no wrong date, ever; at least
    85% of the datable cells dated right; at most 10% of the cells that need nobody flagged."""
    _, cells = load()
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    missed: list[str] = []
    needless: list[str] = []
    for cell in cells:
        got = read(cell)
        assert got.original == cell.text
        counts["cells"] += 1
        bad = wrong_dates(cell, got)
        if bad:
            wrong.append(f"{cell.text!r}: {bad}")
        if cell.kind == "person":
            counts["needs a person"] += 1
            if needs_person(got):
                counts["needs a person, flagged"] += 1
            continue
        counts["datable"] += 1  # denominator: every cell whose reading needs no person
        if dated_right(cell, got):
            counts["dated right"] += 1
        else:
            missed.append(f"{cell.text!r}: read {dates_read(cell, got)}, flag {got.flag!r}")
        if cell.check:
            counts["datable, words to check"] += 1
        else:
            counts["datable, nothing to check"] += 1
            if got.flag is not None:
                needless.append(f"{cell.text!r}: {got.flag}")
    counts["wrong"] = len(wrong)
    counts["flagged needlessly"] = len(needless)
    print("\nTimescale corpus:", dict(counts))
    for line in missed:
        print("  not dated right:", line)
    for line in needless:
        print("  flagged needlessly:", line)
    assert not wrong, wrong
    assert counts["needs a person, flagged"] == counts["needs a person"]
    assert counts["dated right"] >= 0.85 * counts["datable"], missed
    assert len(needless) <= 0.10 * counts["datable, nothing to check"], needless


@pytest.mark.parametrize("cell", load()[1], ids=lambda c: c.text[:40])
def test_each_cell_is_never_given_a_wrong_date(cell: Cell) -> None:
    got = read(cell)
    assert wrong_dates(cell, got) == []
    if cell.kind == "person":
        assert needs_person(got)
