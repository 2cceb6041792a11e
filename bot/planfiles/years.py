"""Years written in timescales: the plan year a file implies, and moving them on."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.planfiles.table import PlanRow

_YEAR = re.compile(r"(?<!\d)(19|20)(\d\d)(?!\d)")


def infer_plan_year(rows: Sequence[PlanRow]) -> int | None:
    """The earliest year the timescales name, if any."""
    years = [int(m.group(1) + m.group(2)) for row in rows for m in _YEAR.finditer(row.timescale)]
    return min(years) if years else None


def shift_text_years(text: str, years: int) -> str:
    """``text`` with every year in it moved on by ``years``."""
    return _YEAR.sub(lambda m: str(int(m.group(1) + m.group(2)) + years), text)
