"""Referral access: who may read and change referrals, who hears of them, and finding one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from sqlalchemy.orm import Session

from bot.errors import NotAllowed, NotFound
from bot.plan.members import Actor, members_with_role
from bot.referrals import audit, queries
from store.models import Partnership, Referral, Role


class NotALead(NotAllowed):
    """The actor is not a safeguarding lead (the attempt has been audited)."""


_VERBS: Final = {
    "view": "view referrals",
    "acknowledge": "acknowledge referrals",
    "assign": "assign referrals",
    "refer_on": "record where a referral went",
    "note": "add case notes",
    "close": "close referrals",
    "list": "list referrals",
    "export": "export referrals",
}


def require_lead(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    action: str,
    reference: str | None,
    *,
    now: dt.datetime,
    admins_too: bool = False,
) -> None:
    """Refuse (and audit the attempt) unless ``actor`` is a lead (or an admin if allowed)."""
    if actor.is_lead or (admins_too and actor.is_admin):
        return
    audit.record(
        session,
        partnership_id=partnership.id,
        actor=actor.slack_user_id,
        action=f"denied_{action}"[:32],
        reference=reference,
        detail=f"role={actor.role.value}",
        now=now,
    )
    who = "a safeguarding lead or an admin" if admins_too else "a safeguarding lead"
    if action == "list" and actor.is_admin:
        raise NotALead(
            "You are not a safeguarding lead, so you cannot list referrals: only "
            "safeguarding leads can see them, and being an admin does not change that. "
            "To make someone a lead (yourself included), run `/csp role @person lead`; "
            "they keep any admin role. If your policy allows it, you can still export one "
            "referral for a subject access request or a handover with "
            f"`csp-bot referrals export REF --as {actor.slack_user_id}` (REF is the "
            "reference, like SG-2026-0007; the export is audited). "
            "Access to referrals is logged."
        )
    if action == "list":
        raise NotALead(
            "You are not a safeguarding lead, so you cannot list referrals: only "
            "safeguarding leads can see them. To raise a safeguarding concern, use "
            "`/csp refer`. If you should be a lead, ask an admin to run "
            "`/csp role @you lead` (with your name for @you). Access to referrals is logged."
        )
    raise NotALead(
        f"You are not {who}, so you cannot {_VERBS.get(action, action)}. "
        "If you need to know about a referral, ask a safeguarding lead. "
        "Access to referrals is logged."
    )


def find_referral(session: Session, partnership: Partnership, reference: str) -> Referral:
    """The partnership's referral with ``reference`` (any case, spaces trimmed), or NotFound."""
    ref = queries.referral_by_reference(session, partnership, reference.strip().upper())
    if ref is None:
        raise NotFound(
            "There is no referral with that reference. Check it (like SG-2026-0007) "
            "or use `/csp referrals` to list open ones."
        )
    return ref


def safeguarding_lead_ids(
    session: Session, partnership: Partnership, extra: Iterable[str] = ()
) -> list[str]:
    """Everyone who should hear of a new referral: members with the lead role, then ``extra``
    (``CSP_SAFEGUARDING_LEADS``, which also names admins who are leads)."""
    return members_with_role(session, partnership, Role.LEAD, extra)


def admin_ids(session: Session, partnership: Partnership, extra: Iterable[str] = ()) -> list[str]:
    """Everyone told when nobody is a lead: members with the admin role, then ``extra``."""
    return members_with_role(session, partnership, Role.ADMIN, extra)
