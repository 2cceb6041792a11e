"""`/csp owner` and `/csp role` answers: who owns an objective now, and what a role change did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.plan.members import RoleChange
from bot.plan.owners import OwnersChange, change_owners
from bot.plan.progress import short_name
from bot.slack.blocks import context, section
from bot.slack.plan_views import owners_text
from bot.text.mrkdwn import esc, esc_code
from handlers.reply import Reply
from handlers.uow import Unit


def _people(user_ids: Sequence[str]) -> str:
    named = [f"<@{u}>" for u in user_ids]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def owners_sentences(change: OwnersChange) -> list[str]:
    """What changed, one sentence per kind of change, with the title in bold."""
    title = f"*{esc(change.summary.title)}*"
    said = []
    if change.added:
        verb = "now owns" if len(change.added) == 1 else "now own"
        said.append(f"{_people(change.added)} {verb} {title}.")
    if change.removed:
        verb = "no longer owns" if len(change.removed) == 1 else "no longer own"
        said.append(f"{_people(change.removed)} {verb} {title}.")
    if change.not_owners:
        verb = "is not an owner" if len(change.not_owners) == 1 else "are not owners"
        said.append(f"{_people(change.not_owners)} {verb} of {title}, so nothing changed for them.")
    if not said:
        said.append(f"Nothing changed: {title} already had those owners.")
    return said


def owner_reply(
    unit: Unit,
    objective_id: int,
    user_ids: Sequence[str],
    mode: Literal["set", "add", "remove"],
    *,
    action_number: int | None = None,
) -> Reply:
    """Apply `/csp owner` (to one action when its number follows the objective, else
    to every action of it) and list the owners as they are now."""
    change = change_owners(
        unit.session,
        unit.partnership,
        unit.me,
        objective_id,
        user_ids,
        mode,
        now=unit.now,
        action_number=action_number,
    )
    said = " ".join(owners_sentences(change))
    now_text = f"Owners now: {owners_text(change.summary)}."
    name = esc_code(short_name(change.summary.title))
    icon = (
        ":information_source:" if change.not_owners and not change.removed else ":white_check_mark:"
    )
    return Reply(
        f"{said} {now_text}".replace("*", ""),
        [
            section(f"{icon} {said}\n{now_text}"),
            context(
                "Owners get the objective's reminders and see it on their App Home tab. "
                f"To change them: `/csp owner {name} add @person`, "
                f"`/csp owner {name} remove @person`, or `/csp owner {name} @person` to "
                "replace them all."
            ),
        ],
    )


def role_reply(change: RoleChange, *, listed_admin: bool, listed_lead: bool) -> Reply:
    """The answer to `/csp role`: settings lists (CSP_ADMINS, CSP_SAFEGUARDING_LEADS)
    win over a stored role, so say so instead of claiming a demotion took effect."""
    user_id, role = change.slack_user_id, change.asked.value
    kept = []
    if listed_admin and role != "admin":
        kept.append(("an admin", "CSP_ADMINS"))
    if listed_lead and role == "member":
        kept.append(("a safeguarding lead", "CSP_SAFEGUARDING_LEADS"))
    if kept:
        stays = " and ".join(f"{what} while listed in {var}" for what, var in kept)
        text = (
            f"I recorded <@{user_id}> as {_article(role)} {role}, but they stay {stays} "
            "(the bot's settings win). Ask whoever runs the bot to remove them from that "
            "list to change it."
        )
        return Reply(text, [section(f":information_source: {text}")])
    return Reply(
        change.text,
        [
            section(f":white_check_mark: {change.text}"),
            context("Roles take effect on their next command."),
        ],
    )


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"
