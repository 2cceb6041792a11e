"""`/csp setup`: the name, channels, digest time, admins and leads, kept in the database.

The environment (CSP_PARTNERSHIP_NAME, CSP_PARTNERSHIP_CHANNEL, ...) is the first-run
bootstrap (:func:`bot.plan.members.ensure_partnership`); once an admin saves the setup
here, the database holds those settings and the variables no longer apply.
:func:`env_differences` says, for start-up, which variables now disagree with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.errors import NotAllowed
from bot.plan import queries
from bot.plan.members import SETUP_KEY, Actor, ensure_member, is_set_up, set_channels
from bot.settings import Settings
from bot.time.policy import WEEKDAYS, ReminderPolicy, parse_digest_at
from store.models import Partnership, Role

NAME_MAX = 200
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SetupValues:
    """What the setup form shows and saves."""

    name: str
    partnership_channel: str | None
    safeguarding_channel: str | None
    digest_day: str  # "mon".."sun"
    digest_time: str  # "09:00"
    admins: tuple[str, ...]
    leads: tuple[str, ...]

    @property
    def digest_label(self) -> str:
        return f"{DAY_NAMES[WEEKDAYS.index(self.digest_day)]}s at {self.digest_time}"


def current_setup(
    session: Session, partnership: Partnership, *, digest_default: str = "mon 09:00"
) -> SetupValues:
    """The setup as it stands, for the form's initial values (``digest_default``: the
    CSP_DIGEST_AT in force until a setup saves a digest time)."""
    digest = ReminderPolicy.from_settings(
        partnership.settings, digest_default=digest_default
    ).digest_at
    return SetupValues(
        name=partnership.name,
        partnership_channel=partnership.partnership_channel,
        safeguarding_channel=partnership.safeguarding_channel,
        digest_day=digest.cron_day,
        digest_time=digest.at.strftime("%H:%M"),
        admins=tuple(queries.member_ids_with_role(session, partnership.id, Role.ADMIN)),
        leads=tuple(queries.member_ids_with_role(session, partnership.id, Role.LEAD)),
    )


def setup_problems(
    session: Session, partnership: Partnership, values: SetupValues
) -> dict[str, str]:
    """What is wrong with ``values``, per field ("name", "partnership_channel", ...), in
    words that say why; empty when the setup can be saved."""
    problems: dict[str, str] = {}
    name = values.name.strip()
    if not name:
        problems["name"] = "Give the partnership's name, as the digest and exports show it."
    elif len(name) > NAME_MAX:
        problems["name"] = f"Keep the name to {NAME_MAX} characters or fewer."
    else:
        other = queries.partnership_named(session, name)
        if other is not None and other.id != partnership.id:
            problems["name"] = "Another partnership in this database has that name already."
    if not values.partnership_channel:
        problems["partnership_channel"] = (
            "Choose the channel the partnership works in: reminders, meeting notices and "
            "the weekly digest go there."
        )
    if values.safeguarding_channel and values.safeguarding_channel == values.partnership_channel:
        problems["safeguarding_channel"] = (
            "Referral alerts must not go to the partnership channel, where everyone would "
            "see them. Choose a private channel that only the safeguarding leads are in, "
            "or leave this empty to alert each lead by direct message."
        )
    try:
        parse_digest_at(f"{values.digest_day} {values.digest_time}")
    except ValueError:
        problems["digest_time"] = "Choose a day and a time for the weekly digest."
    if not values.admins:
        problems["admins"] = (
            "Choose at least one admin: someone has to be able to manage the plan, roles "
            "and this setup."
        )
    if not values.leads:
        problems["leads"] = (
            "Choose at least one safeguarding lead: without one, nobody can see or act on "
            "a safeguarding referral."
        )
    return problems


@dataclass(frozen=True)
class SetupResult:
    values: SetupValues
    channel_changed: bool
    added_admins: tuple[str, ...]
    removed_admins: tuple[str, ...]
    added_leads: tuple[str, ...]
    removed_leads: tuple[str, ...]


def save_setup(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    values: SetupValues,
    *,
    now: dt.datetime,
) -> SetupResult:
    """Store ``values`` (already checked by :func:`setup_problems`) in the database; from
    now on the environment's bootstrap values no longer apply."""
    if not actor.is_admin:
        raise NotAllowed("Only partnership admins can change the setup.")
    before = current_setup(session, partnership)
    channel_changed = values.partnership_channel != partnership.partnership_channel
    partnership.name = values.name.strip()
    set_channels(partnership, values.partnership_channel, values.safeguarding_channel, now=now)
    stored = dict(partnership.settings or {})
    stored["digest_at"] = f"{values.digest_day} {values.digest_time}"
    stored[SETUP_KEY] = {"by": actor.slack_user_id, "at": now.astimezone(dt.UTC).isoformat()}
    partnership.settings = stored
    _apply_roles(session, partnership, values, now=now)
    session.flush()
    return SetupResult(
        values=values,
        channel_changed=channel_changed,
        added_admins=_new(values.admins, before.admins),
        removed_admins=_new(before.admins, values.admins),
        added_leads=_new(values.leads, before.leads),
        removed_leads=_new(before.leads, values.leads),
    )


def _new(these: Sequence[str], than: Sequence[str]) -> tuple[str, ...]:
    return tuple(u for u in these if u not in than)


def _apply_roles(
    session: Session, partnership: Partnership, values: SetupValues, *, now: dt.datetime
) -> None:
    admins, leads = set(values.admins), set(values.leads)
    everyone = set(queries.member_ids_with_role(session, partnership.id, Role.ADMIN))
    everyone |= set(queries.member_ids_with_role(session, partnership.id, Role.LEAD))
    everyone |= admins | leads
    for user_id in sorted(everyone):
        member = ensure_member(session, partnership, user_id, now=now)
        member.role = (
            Role.ADMIN if user_id in admins else Role.LEAD if user_id in leads else Role.MEMBER
        )
        member.safeguarding_lead = user_id in leads


def env_differences(partnership: Partnership, settings: Settings, stored: SetupValues) -> list[str]:
    """After `/csp setup`, one sentence per variable set in the environment that the
    database now overrides with a different value (for start-up); empty before."""
    if not is_set_up(partnership):
        return []
    found: list[str] = []
    pairs: list[tuple[str, object, object]] = [
        ("CSP_PARTNERSHIP_CHANNEL", settings.partnership_channel, stored.partnership_channel),
        ("CSP_SAFEGUARDING_CHANNEL", settings.safeguarding_channel, stored.safeguarding_channel),
    ]
    if "partnership_name" in settings.model_fields_set:
        pairs.append(("CSP_PARTNERSHIP_NAME", settings.partnership_name, stored.name))
    if "digest_cron" in settings.model_fields_set:
        pairs.append(
            ("CSP_DIGEST_AT", settings.digest_cron, f"{stored.digest_day} {stored.digest_time}")
        )
    if settings.admins:
        pairs.append(("CSP_ADMINS", sorted(settings.admins), sorted(stored.admins)))
    if settings.safeguarding_leads:
        pairs.append(
            ("CSP_SAFEGUARDING_LEADS", sorted(settings.safeguarding_leads), sorted(stored.leads))
        )
    for name, env, db in pairs:
        if env is not None and env != db:
            found.append(
                f"{name} says {_shown(env)}, but `/csp setup` saved {_shown(db)} in the "
                "database, which now wins: change it with `/csp setup`, or unset the "
                "variable to stop this warning."
            )
    return found


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "nobody"
    return repr(value) if value else "nothing"
