"""Referral retention: how long details are kept after closure, and purging them once expired."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from bot.referrals import audit, queries
from bot.referrals.availability import referrals_available
from store.models import Partnership

DEFAULT_RETENTION_YEARS: Final = 6
SYSTEM_ACTOR: Final = "system"


def retention_years(partnership: Partnership, category: str) -> int:
    """Years after closure a referral's details are kept (settings ``retention_years``).

    ``retention_years`` may be a number for every category or a table such as
    ``{"default": 6, "fgm": 25}``.
    """
    setting = (partnership.settings or {}).get("retention_years")
    value: object = DEFAULT_RETENTION_YEARS
    if isinstance(setting, int | float) and not isinstance(setting, bool):
        value = setting
    elif isinstance(setting, dict):
        value = setting.get(category, setting.get("default", DEFAULT_RETENTION_YEARS))
    try:
        years = int(str(value).split(".")[0])
    except ValueError:
        years = DEFAULT_RETENTION_YEARS
    return max(years, 0)


def _add_years(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


def purge_expired(
    session: Session, partnership: Partnership, now: dt.datetime, *, actor: str = SYSTEM_ACTOR
) -> int:
    """Remove personal fields of referrals closed longer ago than their retention period.

    Keeps the anonymised row (category, group, urgency, dates) for counts,
    deletes case notes, and audits each purge. Returns how many were purged. Without
    the referral key nothing is touched (see :mod:`bot.referrals.availability`).
    """
    if not referrals_available():
        return 0
    refs = queries.closed_unpurged(session, partnership)
    purged = 0
    for ref in refs:
        assert ref.closed_at is not None
        if _add_years(ref.closed_at, retention_years(partnership, ref.category)) > now:
            continue
        ref.subject_enc = None
        ref.concern_enc = None
        ref.referrer_enc = None
        ref.consent_enc = None
        ref.actions_enc = None
        ref.outcome_enc = None
        ref.referrer_slack_id = ""
        ref.purged_at = now
        notes = queries.notes_of(session, ref.id)
        for note in notes:
            session.delete(note)
        audit.record_for(
            session, partnership, actor, "purge", ref.reference, now, f"notes={len(notes)}"
        )
        purged += 1
    session.flush()
    return purged
