"""Objective owners: assigning them, and the owner-or-admin check for owner-only actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.errors import NotAllowed
from bot.plan import readcache
from bot.plan.members import Actor
from bot.plan.models import ObjectiveSummary
from bot.plan.reading import get_objective, summary_of
from bot.plan.years import local_today
from bot.text.mrkdwn import esc
from store.models import Objective, ObjectiveOwner, Partnership


def set_owner(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    slack_user_id: str,
    *,
    now: dt.datetime,
    replace: bool = False,
) -> ObjectiveSummary:
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can assign owners. Ask an admin to run "
            "`/csp owner <objective> @person`."
        )
    objective = get_objective(session, partnership, objective_id)
    if replace:
        objective.owners.clear()
        session.flush()
    if not any(o.slack_user_id == slack_user_id for o in objective.owners):
        objective.owners.append(
            ObjectiveOwner(label=f"<@{slack_user_id}>", slack_user_id=slack_user_id)
        )
    readcache.touch(session, objective, now)
    session.flush()
    return summary_of(session, partnership, objective, local_today(partnership, now), None)


@dataclass(frozen=True)
class OwnersChange:
    """What `/csp owner` did: the objective now, who was added and removed, and who
    was asked to be removed but was not an owner."""

    summary: ObjectiveSummary
    added: tuple[str, ...]
    removed: tuple[str, ...]
    not_owners: tuple[str, ...]


def change_owners(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    slack_user_ids: Sequence[str],
    mode: Literal["set", "add", "remove"],
    *,
    now: dt.datetime,
) -> OwnersChange:
    """Set (replace every owner), add or remove owners, every person in ``slack_user_ids``."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can assign owners. Ask an admin to run "
            "`/csp owner <objective> @person`."
        )
    objective = get_objective(session, partnership, objective_id)
    wanted = list(dict.fromkeys(slack_user_ids))
    before = [o.slack_user_id for o in objective.owners if o.slack_user_id]
    if mode == "remove":
        gone = [o for o in objective.owners if o.slack_user_id in wanted]
        for owner in gone:
            objective.owners.remove(owner)
        removed = tuple(u for u in wanted if u in before)
        added: tuple[str, ...] = ()
    else:
        removed = ()
        if mode == "set":
            removed = tuple(u for u in before if u not in wanted)
            objective.owners[:] = [o for o in objective.owners if o.slack_user_id in wanted]
            session.flush()
        kept = {o.slack_user_id for o in objective.owners}
        added = tuple(u for u in wanted if u not in kept)
        for user_id in added:
            objective.owners.append(ObjectiveOwner(label=f"<@{user_id}>", slack_user_id=user_id))
    readcache.touch(session, objective, now)
    session.flush()
    return OwnersChange(
        summary=summary_of(session, partnership, objective, local_today(partnership, now), None),
        added=added,
        removed=removed,
        not_owners=tuple(u for u in wanted if u not in before) if mode == "remove" else (),
    )


def check_owner_or_admin(objective: Objective, actor: Actor, what: str) -> None:
    if actor.is_admin:
        return
    if any(o.slack_user_id == actor.slack_user_id for o in objective.owners):
        return
    raise NotAllowed(
        f"Only the owners of {esc(objective.title)} or an admin can {what}. "
        "You can still log progress with `/csp progress`."
    )
