"""Members and roles: bootstrap admins and leads, `/csp role`, the last admin, owners."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import NotAllowed, UserError
from bot.plan.members import Actor, ensure_partnership, resolve_actor, set_role
from bot.plan.owners import set_owner
from bot.plan.reading import list_objectives, objective_detail
from bot.settings import Settings
from store.models import Partnership, Role
from tests.conftest import NOW

TODAY = dt.date(2026, 11, 26)


def _id(session: Session, partnership: Partnership, title: str) -> int:
    return next(s.id for s in list_objectives(session, partnership, TODAY) if s.title == title)


def test_bootstrap_roles(session: Session, seeded: Partnership, plan_settings: Settings) -> None:
    admin = resolve_actor(session, seeded, "UADMIN", now=NOW, settings=plan_settings)
    lead = resolve_actor(session, seeded, "ULEAD", now=NOW, settings=plan_settings)
    member = resolve_actor(session, seeded, "UOTHER", now=NOW, display_name="Sam")
    assert admin.is_admin and not admin.is_lead
    assert lead.is_lead and not lead.is_admin
    assert not member.is_admin and not member.is_lead and member.display_name == "Sam"


def test_roles_and_owners_are_admin_only(session: Session, seeded: Partnership) -> None:
    admin = Actor("UADMIN", Role.ADMIN, None)
    member = Actor("UOTHER", Role.MEMBER, None)
    dhr = _id(session, seeded, "Domestic Homicide Reviews")
    with pytest.raises(NotAllowed):
        set_owner(session, seeded, member, dhr, "UOTHER", now=NOW)
    with pytest.raises(NotAllowed):
        set_role(session, seeded, member, "UOTHER", Role.ADMIN, now=NOW)
    summary = set_owner(session, seeded, admin, dhr, "UOWNER", now=NOW)
    assert summary.owner_ids == ("UOWNER",)
    set_owner(session, seeded, admin, dhr, "UOWNER", now=NOW)  # idempotent
    assert objective_detail(session, seeded, dhr, TODAY).summary.owner_ids == ("UOWNER",)
    set_role(session, seeded, admin, "UOTHER", Role.LEAD, now=NOW)
    assert resolve_actor(session, seeded, "UOTHER", now=NOW).is_lead


def test_partnership_follows_settings(session: Session, plan_settings: Settings) -> None:
    p = ensure_partnership(session, plan_settings, now=NOW)
    assert p.partnership_channel == "C0PARTNER" and p.timezone == "Europe/London"
    assert p.plan_year == 2026


def test_the_last_admin_cannot_be_demoted(session: Session, seeded: Partnership) -> None:
    admin = Actor("UADMIN", Role.ADMIN, None)
    with pytest.raises(UserError, match="only admin"):
        set_role(session, seeded, admin, "UADMIN", Role.MEMBER, now=NOW)
    set_role(session, seeded, admin, "UADMIN", Role.MEMBER, bootstrap_admins=("UADMIN",), now=NOW)
    set_role(session, seeded, admin, "USECOND", Role.ADMIN, now=NOW)
    set_role(session, seeded, admin, "USECOND", Role.MEMBER, bootstrap_admins=("UADMIN",), now=NOW)


def test_someone_in_both_lists_is_admin_and_lead(tmp_path: object) -> None:
    from pathlib import Path

    from bot.clock import FixedClock
    from bot.context import build_context
    from bot.plan.members import members_with_role
    from bot.settings import load_settings
    from store.db import session_scope
    from store.models import Member
    from tests.dbutil import fresh_database_url

    assert isinstance(tmp_path, Path)
    settings = load_settings(
        DATABASE_URL=fresh_database_url(tmp_path),
        CSP_ADMINS="UBOTH,UADMIN",
        CSP_SAFEGUARDING_LEADS="UBOTH,ULEAD",
    )
    ctx = build_context(settings, clock=FixedClock(NOW))
    try:
        with session_scope(ctx.sessions) as s:
            p = ensure_partnership(s, settings, now=NOW)
            both = s.scalars(select(Member).where(Member.slack_user_id == "UBOTH")).one()
            assert both.role == Role.ADMIN and both.safeguarding_lead
            assert members_with_role(s, p, Role.LEAD) == ["UBOTH", "ULEAD"]
            assert members_with_role(s, p, Role.ADMIN) == ["UBOTH", "UADMIN"]
            actor = resolve_actor(s, p, "UBOTH", now=NOW)  # without settings: the stored flag
            assert actor.is_admin and actor.is_lead
    finally:
        ctx.engine.dispose()


def test_role_changes_keep_lead_and_admin_separate(session: Session, seeded: Partnership) -> None:
    from bot.plan.members import members_with_role

    admin = Actor("UADMIN", Role.ADMIN, None)
    # A lead made admin is still a lead, and the reply says so.
    change = set_role(session, seeded, admin, "ULEAD", Role.ADMIN, now=NOW)
    assert change.role == Role.ADMIN and change.safeguarding_lead
    assert "is now an admin and still a safeguarding lead" in change.text
    assert "safeguarding referrals" in change.text
    assert "ULEAD" in members_with_role(session, seeded, Role.LEAD)
    assert resolve_actor(session, seeded, "ULEAD", now=NOW).is_lead
    # An admin made lead stays admin.
    change = set_role(session, seeded, admin, "UADMIN", Role.LEAD, now=NOW)
    assert change.role == Role.ADMIN and change.safeguarding_lead
    assert "is now a safeguarding lead and still an admin" in change.text
    # A member made lead gets the lead role and the flag.
    change = set_role(session, seeded, admin, "UNEW", Role.LEAD, now=NOW)
    assert change.role == Role.LEAD and change.safeguarding_lead
    assert change.text.startswith("<@UNEW> is now a safeguarding lead: ")
    # member clears both (another admin remains).
    change = set_role(session, seeded, admin, "ULEAD", Role.MEMBER, now=NOW)
    assert change.role == Role.MEMBER and not change.safeguarding_lead
    assert "ULEAD" not in members_with_role(session, seeded, Role.LEAD)
    assert not resolve_actor(session, seeded, "ULEAD", now=NOW).is_lead
    assert "log progress and see the plan" in change.text
    # The last admin (a lead as well) cannot be made a member.
    with pytest.raises(UserError, match="only admin"):
        set_role(session, seeded, admin, "UADMIN", Role.MEMBER, now=NOW)


def test_people_stored_as_they_are_are_read_at_once_without_writing(
    session: Session, partnership: Partnership
) -> None:
    from bot.plan.members import stored_actors

    made = resolve_actor(session, partnership, "U0NEW1", now=NOW, display_name="sam")
    resolve_actor(session, partnership, "U0NEW2", now=NOW, display_name="kim")
    session.flush()
    found = stored_actors(
        session, partnership, {"U0NEW1": "sam", "U0NEW2": "kimberley", "U0NOBODY": "x"}
    )
    # Someone new, or a new handle that would be stored, is left to resolve_actor.
    assert found == {"U0NEW1": made}
