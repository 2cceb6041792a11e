"""Action owners: assigning them, and the owner-or-admin check for owner-only actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan import readcache
from bot.plan.actions import numbered
from bot.plan.members import Actor
from bot.plan.models import ObjectiveSummary
from bot.plan.reading import get_objective, summary_of
from bot.plan.years import local_today
from bot.text.mrkdwn import esc
from bot.text.numbers import plural
from store.models import Action, Objective, ObjectiveOwner, Partnership


def _actions_meant(objective: Objective, number: int | None) -> list[Action]:
    """The action numbered ``number``, or every action of the objective when None."""
    if number is None:
        return list(objective.actions)
    action = numbered(objective, number)
    if action is None:
        raise UserError(
            f"{esc(objective.title)} has {plural(len(objective.actions), 'action')}, "
            f"numbered 1 to {len(objective.actions)}; say which, e.g. "
            f"`/csp owner {esc(objective.title)} 1 @person`."
        )
    return [action]


def set_owner(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    slack_user_id: str,
    *,
    now: dt.datetime,
    replace: bool = False,
    action_number: int | None = None,
) -> ObjectiveSummary:
    """Make ``slack_user_id`` an owner of the objective's action (every action when
    ``action_number`` is None), replacing the owners there when ``replace``."""
    return change_owners(
        session,
        partnership,
        actor,
        objective_id,
        [slack_user_id],
        "set" if replace else "add",
        now=now,
        action_number=action_number,
    ).summary


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
    action_number: int | None = None,
) -> OwnersChange:
    """Set (replace every owner), add or remove owners, every person in ``slack_user_ids``,
    on the action numbered ``action_number`` (on every action when None)."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can assign owners. Ask an admin to run "
            "`/csp owner <objective> @person`."
        )
    objective = get_objective(session, partnership, objective_id)
    actions = _actions_meant(objective, action_number)
    wanted = list(dict.fromkeys(slack_user_ids))
    before = list(
        dict.fromkeys(o.slack_user_id for a in actions for o in a.owners if o.slack_user_id)
    )
    added_to: set[str] = set()
    for action in actions:
        if mode == "remove":
            for owner in [o for o in action.owners if o.slack_user_id in wanted]:
                action.owners.remove(owner)
            continue
        if mode == "set":
            action.owners[:] = [o for o in action.owners if o.slack_user_id in wanted]
            session.flush()
        kept = {o.slack_user_id for o in action.owners}
        for user_id in wanted:
            if user_id not in kept:
                action.owners.append(ObjectiveOwner(label=f"<@{user_id}>", slack_user_id=user_id))
                added_to.add(user_id)
    if mode == "remove":
        removed = tuple(u for u in wanted if u in before)
        added: tuple[str, ...] = ()
    else:
        removed = tuple(u for u in before if u not in wanted) if mode == "set" else ()
        added = tuple(u for u in wanted if u in added_to)
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
