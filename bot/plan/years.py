"""Plan years and local days: April-to-March years, their labels, the partnership's day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from store.models import Partnership


def current_plan_year(today: dt.date) -> int:
    """UK public-sector plan years run April to March."""
    return today.year if today.month >= 4 else today.year - 1


def plan_year_label(year: int) -> str:
    """How a plan year is named everywhere: 2026 -> "2026/27"."""
    return f"{year}/{(year + 1) % 100:02d}"


def local_today(partnership: Partnership, now: dt.datetime) -> dt.date:
    return local_date(now, partnership.timezone)


DEFAULT_ZONE = "Europe/London"


def local_date(at: dt.datetime, zone: ZoneInfo | str) -> dt.date:
    """The calendar day ``at`` falls on in ``zone`` (the partnership's zone): 23:30 UTC
    on a summer-time date is already the next day in London. A naive ``at`` is taken
    as UTC, as the database stores it."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).date()
