"""Members' display names for files people read: cached from Slack, read again when stale.

The bot never calls Slack: a handler asks :func:`stale_names` which ids to look up,
calls ``users.info`` itself, and hands the answers to :func:`record_names`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from bot.plan import export_queries
from bot.plan.members import resolve_actor
from store.models import Partnership

#: A name read from Slack this recently is used as it is.
NAME_TTL = dt.timedelta(days=7)


def display_names(session: Session, partnership: Partnership, ids: Iterable[str]) -> dict[str, str]:
    """The cached display name of each of ``ids`` that has one."""
    rows = export_queries.members_by_id(session, partnership.id, ids)
    return {uid: m.display_name for uid, m in rows.items() if m.display_name}


def stale_names(
    session: Session, partnership: Partnership, ids: Iterable[str], *, now: dt.datetime
) -> list[str]:
    """Those of ``ids`` whose name was never read from Slack or not within NAME_TTL."""
    wanted = sorted(set(ids))
    rows = export_queries.members_by_id(session, partnership.id, wanted)
    stale = []
    for uid in wanted:
        member = rows.get(uid)
        at = member.display_name_at if member is not None else None
        if at is None or now - at >= NAME_TTL:
            stale.append(uid)
    return stale


def record_names(
    session: Session, partnership: Partnership, names: Mapping[str, str], *, now: dt.datetime
) -> None:
    """Cache the names read from Slack (a member row is made for anyone new)."""
    for uid, name in sorted(names.items()):
        resolve_actor(session, partnership, uid, now=now)  # the member row, made if new
        member = export_queries.members_by_id(session, partnership.id, [uid])[uid]
        member.display_name = name.strip() or member.display_name
        member.display_name_at = now
    session.flush()
