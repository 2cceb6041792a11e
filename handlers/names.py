"""Display names from Slack (`users.info`) for the files people read, cached on the member.

The bot layer never calls Slack: this asks it which names are stale, looks them up,
and hands the answers back (``bot.plan.names``). A lookup that fails keeps the
cached name, or the id when there is none.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.plan.names import display_names, record_names, stale_names
from bot.plan.queries import current_objectives
from store.models import Partnership

log = logging.getLogger(__name__)


def name_of(user: Mapping[str, Any]) -> str | None:
    """The name Slack shows for ``user``: display name, else real name, else handle."""
    profile = user.get("profile") or {}
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def refresh_names(
    client: WebClient,
    session: Session,
    partnership: Partnership,
    ids: Iterable[str],
    *,
    now: dt.datetime,
) -> int:
    """Read the stale names among ``ids`` from Slack and cache them; how many were read."""
    found: dict[str, str] = {}
    for user_id in stale_names(session, partnership, ids, now=now):
        try:
            answer = client.users_info(user=user_id)
        except SlackApiError as exc:  # user_not_found, missing_scope...
            log.warning("users.info %s: %s", user_id, exc.response.get("error"))
            continue
        except (SlackClientError, OSError) as exc:  # Slack unreachable: stop asking
            log.warning("users.info failed (%s); cached names are used", type(exc).__name__)
            break
        name = name_of(answer.get("user") or {})
        if name is not None:
            found[user_id] = name
    record_names(session, partnership, found, now=now)
    return len(found)


def owner_ids(session: Session, partnership: Partnership) -> list[str]:
    """The Slack ids of everyone owning an objective of the current plan year."""
    ids = {
        owner.slack_user_id
        for objective in current_objectives(session, partnership)
        for owner in objective.owners
        if owner.slack_user_id
    }
    return sorted(ids)


def owner_names(
    session: Session,
    partnership: Partnership,
    client: WebClient | None,
    *,
    now: dt.datetime,
) -> dict[str, str]:
    """Owners' display names, stale ones read again from Slack first when ``client``."""
    ids = owner_ids(session, partnership)
    if client is not None:
        refresh_names(client, session, partnership, ids, now=now)
    return display_names(session, partnership, ids)
