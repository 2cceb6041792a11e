"""Referral readiness: what, at start-up, would stop a referral reaching a lead."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.referrals.access import safeguarding_lead_ids
from bot.settings import Settings
from store.models import Partnership


def safeguarding_readiness(
    settings: Settings, session: Session, partnership: Partnership
) -> list[str]:
    """Warnings worth logging at start-up: what would stop a referral reaching a lead."""
    warnings: list[str] = []
    if not settings.encryption_keys:
        warnings.append(
            "CSP_ENCRYPTION_KEY is not set, so `/csp refer` cannot take referrals: make a key "
            "with `csp-bot keys generate` and set it."
        )
    if not safeguarding_lead_ids(session, partnership, settings.safeguarding_leads):
        warnings.append(
            "Nobody is a safeguarding lead, so a referral would reach no one who can read "
            "it (the referrer is told to phone instead): set CSP_SAFEGUARDING_LEADS or have "
            "an admin run `/csp role @user lead`."
        )
    if not settings.safeguarding_channel:
        warnings.append(
            "CSP_SAFEGUARDING_CHANNEL is not set, so referral alerts go to each safeguarding "
            "lead by direct message: set it to a private channel the bot is in."
        )
    return warnings
