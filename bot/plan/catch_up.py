"""The catch-up instant: when a plan was loaded or a channel set, so late items are summarised.

After a plan import, a rollover, the seed's first load or a new partnership channel,
everything already overdue would otherwise be chased one notice at a time at the next
sweep. The instant is kept in ``Partnership.settings["catch_up"]``; the reminder source
(``bot.notices.catch_up``) summarises what was overdue then in one message and starts
chasing each item individually from its next weekly notice.
"""

from __future__ import annotations

import datetime as dt

from store.models import Partnership

KEY = "catch_up"


def mark_catch_up(partnership: Partnership, now: dt.datetime) -> None:
    """Record that the bot starts afresh at ``now`` (a new plan, or a new channel)."""
    stamp = now.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    # A new dict, so SQLAlchemy sees the JSON column change.
    partnership.settings = {**(partnership.settings or {}), KEY: stamp}


def catch_up_since(partnership: Partnership) -> dt.datetime | None:
    """The last catch-up instant, or None (a plan the bot has been chasing all along)."""
    raw = (partnership.settings or {}).get(KEY)
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
