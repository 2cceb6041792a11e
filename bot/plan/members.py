"""Members and roles: who is acting (Actor), the partnership row, `/csp role`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan import queries
from bot.plan.catch_up import mark_catch_up
from bot.plan.years import current_plan_year, local_date
from bot.settings import Settings
from store.models import Member, Partnership, Role


@dataclass(frozen=True)
class Actor:
    slack_user_id: str
    role: Role
    display_name: str | None
    bootstrap_admin: bool = False
    bootstrap_lead: bool = False
    safeguarding_lead: bool = False  # the member's stored lead flag

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.bootstrap_admin

    @property
    def is_lead(self) -> bool:
        """Safeguarding lead. Admins are not leads unless named as one."""
        return self.safeguarding_lead or self.role == Role.LEAD or self.bootstrap_lead

    @property
    def mention(self) -> str:
        return f"<@{self.slack_user_id}>"


SETUP_KEY = "setup"  # Partnership.settings["setup"]: who saved `/csp setup`, and when


def is_set_up(partnership: Partnership) -> bool:
    """Whether `/csp setup` has been saved: from then on the database holds the name,
    channels, digest time, admins and leads, and the environment no longer applies."""
    return isinstance((partnership.settings or {}).get(SETUP_KEY), dict)


def bootstrap_ids(
    partnership: Partnership, settings: Settings | None
) -> tuple[list[str], list[str]]:
    """The admins and leads named in CSP_ADMINS / CSP_SAFEGUARDING_LEADS, which count as
    admins and leads until `/csp setup` is saved (then the stored roles alone count)."""
    if settings is None or is_set_up(partnership):
        return [], []
    return list(settings.admins), list(settings.safeguarding_leads)


def ensure_partnership(session: Session, settings: Settings, *, now: dt.datetime) -> Partnership:
    """The partnership this process serves, created from settings on first use.

    The environment is the first-run bootstrap: until `/csp setup` is saved, the name and
    channels follow the settings on every start, and `CSP_ADMINS` and
    `CSP_SAFEGUARDING_LEADS` are recorded as members (admins with the admin role, leads
    with the safeguarding-lead flag, and the lead role unless they are admins, so someone
    in both lists is stored as both). Once it is saved, the database holds those and the
    variables are ignored (start-up says so when they differ). The zone always follows
    CSP_TIMEZONE. A partnership channel newly set starts a catch-up
    (:mod:`bot.plan.catch_up`).
    """
    partnership = queries.partnership_named(
        session, settings.partnership_name
    ) or queries.first_partnership(session)
    if partnership is None:
        partnership = Partnership(
            name=settings.partnership_name,
            timezone=settings.timezone,
            plan_year=current_plan_year(local_date(now, settings.zone)),
            settings={},
            referral_seq=0,
            created_at=now,
        )
        session.add(partnership)
    partnership.timezone = settings.timezone
    if is_set_up(partnership):
        session.flush()
        return partnership
    if partnership.name != settings.partnership_name:
        partnership.name = settings.partnership_name
    set_channels(partnership, settings.partnership_channel, settings.safeguarding_channel, now=now)
    session.flush()
    for user_id in settings.admins:
        _ensure_member(session, partnership, user_id, now=now, role=Role.ADMIN)
    for user_id in settings.safeguarding_leads:
        role = None if user_id in settings.admins else Role.LEAD
        member = _ensure_member(session, partnership, user_id, now=now, role=role)
        if not member.safeguarding_lead:
            member.safeguarding_lead = True
    return partnership


def store_local_role(
    session: Session, partnership: Partnership, slack_user_id: str, role: Role, *, now: dt.datetime
) -> None:
    """Store the shell's user with the role it acts with, so what the shell suggests
    (``csp-bot referrals export REF --as ULOCAL``) is checked against the same role."""
    _ensure_member(session, partnership, slack_user_id, now=now, role=role)
    session.flush()


def set_channels(
    partnership: Partnership, channel: str | None, safeguarding: str | None, *, now: dt.datetime
) -> None:
    """Store the two channels; a partnership channel newly set starts a catch-up, so what
    is already overdue reaches it as one summary, not a notice per item."""
    if channel and channel != partnership.partnership_channel:
        mark_catch_up(partnership, now)
    if partnership.partnership_channel != channel:
        partnership.partnership_channel = channel
    if partnership.safeguarding_channel != safeguarding:
        partnership.safeguarding_channel = safeguarding


def _ensure_member(
    session: Session,
    partnership: Partnership,
    slack_user_id: str,
    *,
    now: dt.datetime,
    role: Role | None = None,
    display_name: str | None = None,
) -> Member:
    member = queries.find_member(session, partnership.id, slack_user_id)
    if member is None:
        member = Member(
            partnership_id=partnership.id,
            slack_user_id=slack_user_id,
            role=role or Role.MEMBER,
            display_name=display_name,
            created_at=now,
        )
        try:
            # Two first requests from one person can race: the loser uses the winner's row.
            with session.begin_nested():
                session.add(member)
        except IntegrityError:
            member = queries.the_member(session, partnership.id, slack_user_id)
        else:
            return member
    if role is not None and member.role != role and role != Role.MEMBER:
        member.role = role
    if _takes_name(member.display_name, member.display_name_at, display_name):
        member.display_name = display_name
    return member


def _takes_name(stored: str | None, read_at: dt.datetime | None, offered: str | None) -> bool:
    """Whether a request's handle replaces the stored name: a name read from Slack's
    users.info (``read_at`` set) beats it."""
    return bool(offered) and stored != offered and read_at is None


ensure_member = _ensure_member  # the member row for a Slack user, made on first use


def resolve_actor(
    session: Session,
    partnership: Partnership,
    slack_user_id: str,
    *,
    now: dt.datetime,
    display_name: str | None = None,
    settings: Settings | None = None,
) -> Actor:
    member = _ensure_member(session, partnership, slack_user_id, now=now, display_name=display_name)
    roles = bootstrap_ids(partnership, settings)
    return _actor(
        slack_user_id, member.role, member.display_name, bool(member.safeguarding_lead), roles
    )


def _actor(
    user: str,
    role: str,
    name: str | None,
    lead: bool,
    bootstrap: tuple[Collection[str], Collection[str]],
) -> Actor:
    """The actor of a member as stored (or about to be), with the settings' roles."""
    admins, leads = bootstrap
    return Actor(
        slack_user_id=user,
        role=Role(role),
        display_name=name,
        bootstrap_admin=user in admins,
        bootstrap_lead=user in leads,
        safeguarding_lead=lead,
    )


def stored_actors(
    session: Session,
    partnership: Partnership,
    asking: Mapping[str, str | None],
    *,
    settings: Settings | None = None,
) -> dict[str, Actor]:
    """:func:`resolve_actor` for many people at once (Slack id -> the name their request
    gave), with one plain query and nothing written: only those stored as they are
    (someone new, or a changed name, is left out for :func:`resolve_actor`)."""
    roles = bootstrap_ids(partnership, settings)
    return {
        user: _actor(user, role, name, lead, roles)
        for user, role, name, read_at, lead in queries.member_facts(
            session, partnership.id, list(asking)
        )
        if not _takes_name(name, read_at, asking.get(user))
    }


def unstored_actor(
    session: Session,
    partnership: Partnership,
    slack_user_id: str,
    display_name: str | None,
    *,
    settings: Settings | None = None,
) -> tuple[Actor, bool] | None:
    """Who is asking, read without writing: (their actor, whether they are new, so their
    member row is still to be made), or None when their stored name is to change (then
    :func:`resolve_actor` writes it). A new member is what :func:`resolve_actor` would
    make: a member, with the settings' roles."""
    roles = bootstrap_ids(partnership, settings)
    for user, role, name, read_at, lead in queries.member_facts(
        session, partnership.id, [slack_user_id]
    ):
        if _takes_name(name, read_at, display_name):
            return None  # stored, with a name this request changes
        return _actor(user, role, name, lead, roles), False
    return _actor(slack_user_id, Role.MEMBER, display_name, False, roles), True


@dataclass(frozen=True)
class RoleChange:
    """What `/csp role` did: the person's role and lead flag now (before the settings
    lists, which win over both)."""

    slack_user_id: str
    asked: Role
    role: Role
    safeguarding_lead: bool

    @property
    def can_do(self) -> str:
        """In plain words, what the person can now do."""
        admin = self.role == Role.ADMIN
        if admin and self.safeguarding_lead:
            return (
                "they can manage the plan, owners, roles and meetings, and as a safeguarding "
                "lead they still see and handle safeguarding referrals"
            )
        if admin:
            return "they can manage the plan, owners, roles and meetings"
        if self.safeguarding_lead:
            return "they will see and handle safeguarding referrals"
        return "they can log progress and see the plan; they no longer manage roles or referrals"

    @property
    def text(self) -> str:
        """The reply to `/csp role`, e.g. "<@U1> is now an admin and still a
        safeguarding lead: ..."."""
        who = f"<@{self.slack_user_id}>"
        admin = self.role == Role.ADMIN
        if self.asked == Role.LEAD and admin:
            now = "is now a safeguarding lead and still an admin"
        elif self.asked == Role.ADMIN and self.safeguarding_lead:
            now = "is now an admin and still a safeguarding lead"
        elif admin:
            now = "is now an admin"
        elif self.safeguarding_lead:
            now = "is now a safeguarding lead"
        else:
            now = "is now a member"
        return f"{who} {now}: {self.can_do}."


def set_role(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    slack_user_id: str,
    role: Role,
    *,
    now: dt.datetime,
    bootstrap_admins: Collection[str] = (),
) -> RoleChange:
    """Change someone's role. ``lead`` sets the safeguarding-lead flag and keeps an admin
    an admin; ``admin`` keeps the flag (a lead made admin is still a lead); ``member``
    clears both. Refuses to leave the partnership with no admin: the last admin
    (counting those listed in CSP_ADMINS, ``bootstrap_admins``) cannot be demoted."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can change roles. Ask an admin to run "
            f"`/csp role <@{slack_user_id}> {role.value}`."
        )
    member = _ensure_member(session, partnership, slack_user_id, now=now)
    was_admin = member.role == Role.ADMIN
    if role == Role.MEMBER and was_admin and slack_user_id not in bootstrap_admins:
        others = set(members_with_role(session, partnership, Role.ADMIN)) | set(bootstrap_admins)
        others.discard(slack_user_id)
        if not others:
            raise UserError(
                f"<@{slack_user_id}> is the partnership's only admin, so I have kept them as "
                "admin: someone has to be able to manage the plan and roles. Make someone "
                "else an admin first with `/csp role @person admin`, then try again."
            )
    lead = bool(member.safeguarding_lead) or member.role == Role.LEAD
    if role == Role.LEAD:
        member.safeguarding_lead = True
        if not was_admin:
            member.role = Role.LEAD
    elif role == Role.ADMIN:
        member.role = Role.ADMIN
        member.safeguarding_lead = lead
    else:
        member.role = Role.MEMBER
        member.safeguarding_lead = False
    session.flush()
    return RoleChange(
        slack_user_id=slack_user_id,
        asked=role,
        role=Role(member.role),
        safeguarding_lead=bool(member.safeguarding_lead),
    )


def members_with_role(
    session: Session, partnership: Partnership, role: Role, extra: Iterable[str] = ()
) -> list[str]:
    """Slack IDs of members holding ``role``, oldest first, then any of ``extra`` (such as
    the bootstrap IDs from settings) not already listed. For ``Role.LEAD`` that is everyone
    who is a safeguarding lead: the lead role or the flag (an admin can be a lead too)."""
    found = queries.member_ids_with_role(session, partnership.id, role)
    found.extend(user for user in dict.fromkeys(extra) if user and user not in found)
    return found
