"""Members and roles: who is acting (Actor), the partnership row, `/csp role`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan import queries
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


def ensure_partnership(session: Session, settings: Settings, *, now: dt.datetime) -> Partnership:
    """The partnership this process serves, created from settings on first use.

    Channels and zone follow the settings on every start; `CSP_ADMINS` and
    `CSP_SAFEGUARDING_LEADS` are recorded as members: admins with the admin role, leads
    with the safeguarding-lead flag (and the lead role unless they are admins), so someone
    in both lists is stored as both.
    """
    partnership = queries.partnership_named(session, settings.partnership_name)
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
    partnership.partnership_channel = settings.partnership_channel
    partnership.safeguarding_channel = settings.safeguarding_channel
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
    # A name read from Slack's users.info (display_name_at set) beats a request's handle.
    if display_name and member.display_name != display_name and member.display_name_at is None:
        member.display_name = display_name
    return member


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
    return Actor(
        slack_user_id=slack_user_id,
        role=Role(member.role),
        display_name=member.display_name,
        bootstrap_admin=settings is not None and slack_user_id in settings.admins,
        bootstrap_lead=settings is not None and slack_user_id in settings.safeguarding_leads,
        safeguarding_lead=bool(member.safeguarding_lead),
    )


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
