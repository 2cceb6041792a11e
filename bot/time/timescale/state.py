"""The timescale reader's working state: months waiting for a year, dates read, words noted."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.time.timescale.lexicon import MONTHLY, ONGOING, QUARTERLY, YEARLY


@dataclass
class Pending:
    """A month (maybe with a day, or a quarter) still waiting for its year."""

    month: int
    day: int | None = None
    quarter: int | None = None
    end_of: bool = False


@dataclass
class Item:
    """A resolved date: a year, a month, maybe a day."""

    year: int
    month: int
    day: int | None
    label: str
    body: str | None = None
    year_only: bool = False  # a bare year ("2017"): only the year was said


@dataclass
class Walk:
    ongoing: bool = False
    yearly: bool = False
    quarterly: bool = False
    monthly: bool = False
    tbc: bool = False
    asap: bool = False
    end_of_next: bool = False  # "end of" was read; the next month is "end of <Month>"
    pending: list[Pending] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    unbodied_from: int = 0  # items from this index have no "for <Body>" yet
    current_body: str | None = None
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    window_from: tuple[int, int] | None = None  # items, pending counts at "between"


def note_frequency(walk: Walk, low: str) -> bool:
    """Note "ongoing", "annually", "quarterly" or "monthly" (lower-cased) if ``low`` is one."""
    if low in ONGOING:
        walk.ongoing = True
    elif low in YEARLY:
        walk.yearly = True
    elif low in QUARTERLY:
        walk.quarterly = True
    elif low in MONTHLY:
        walk.monthly = True
    else:
        return False
    return True
