"""Referral readiness: what, at start-up, would stop a referral reaching a lead."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.plan.members import bootstrap_ids
from bot.referrals.access import safeguarding_lead_ids
from bot.referrals.availability import locked_referrals
from bot.settings import Settings
from store.models import Partnership


def safeguarding_readiness(
    settings: Settings, session: Session, partnership: Partnership
) -> list[str]:
    """Warnings worth logging at start-up: what would stop a referral reaching a lead."""
    warnings: list[str] = []
    locked = locked_referrals()
    if locked:
        warnings.append(
            f"SAFEGUARDING REFERRALS ARE UNAVAILABLE: the database holds {locked} referral(s) "
            "but CSP_ENCRYPTION_KEY is not set, so `/csp refer` takes no new ones and the "
            "stored ones get no alerts, escalations or retention until it is set to the key "
            "they were encrypted with (then restart). The plan, reminders and digest run as "
            "usual."
        )
    elif not settings.encryption_keys:
        warnings.append(
            "CSP_ENCRYPTION_KEY is not set, so `/csp refer` cannot take referrals: make a key "
            "with `csp-bot keys generate` and set it."
        )
    _admins, leads = bootstrap_ids(partnership, settings)
    if not safeguarding_lead_ids(session, partnership, leads):
        warnings.append(
            "Nobody is a safeguarding lead, so a referral would reach no one who can read "
            "it (the referrer is told to phone instead): choose leads with `/csp setup`, "
            "set CSP_SAFEGUARDING_LEADS, or have an admin run `/csp role @user lead`."
        )
    if not partnership.safeguarding_channel:
        warnings.append(
            "No safeguarding channel is set, so referral alerts go to each safeguarding "
            "lead by direct message: choose a private channel the bot is in with "
            "`/csp setup` (or set CSP_SAFEGUARDING_CHANNEL)."
        )
    return warnings
