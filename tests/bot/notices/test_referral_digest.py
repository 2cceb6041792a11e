"""The weekly digest shows referral counts only, never a referral's details."""

from __future__ import annotations

import datetime as dt
import json

from bot.context import AppContext
from bot.ids import Ids
from bot.notices import digest, digest_blocks
from bot.plan.members import ensure_partnership, resolve_actor
from bot.referrals import crypto
from bot.referrals.form import validate_referral_form
from bot.referrals.records import create_referral
from bot.referrals.workflow import acknowledge, add_note
from store.db import session_scope

MARKER = "Qzdigestmarkerqz"
NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def test_digest_carries_counts_not_contents(seeded_ctx: AppContext) -> None:
    ctx = seeded_ctx
    crypto.configure(ctx.settings.encryption_keys)
    raw = {
        str(Ids.REFERRAL_GROUP): "child",
        str(Ids.REFERRAL_CATEGORY): "domestic_abuse",
        str(Ids.REFERRAL_URGENCY): "immediate",
        str(Ids.REFERRAL_SUBJECT_NAME): f"{MARKER} Name",
        str(Ids.REFERRAL_ADDRESS): f"1 {MARKER} Road",
        str(Ids.REFERRAL_WHAT): f"{MARKER} what",
        str(Ids.REFERRAL_HOW_KNOWN): f"{MARKER} how",
        str(Ids.REFERRAL_REFERRER_ROLE): f"{MARKER} role",
        str(Ids.REFERRAL_REFERRER_AGENCY): f"{MARKER} agency",
        str(Ids.REFERRAL_REFERRER_CONTACT): f"{MARKER}@example.org",
        str(Ids.REFERRAL_CONSENT): "given",
        str(Ids.REFERRAL_ACTIONS_TAKEN): f"{MARKER} actions",
    }
    form = validate_referral_form(raw, today=NOW.date())
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        s.flush()
        member = resolve_actor(s, p, "UMEMBER", now=NOW, settings=ctx.settings)
        lead = resolve_actor(s, p, "ULEAD", now=NOW, settings=ctx.settings)
        for n in range(3):
            made = create_referral(
                s, p, member, form, submission_key=f"d{n}", now=NOW - dt.timedelta(days=n)
            )
        add_note(s, p, lead, made.reference, f"{MARKER} note", now=NOW)
        acknowledge(s, p, lead, made.reference, now=NOW)
    later = NOW + dt.timedelta(hours=2)
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=later)
        built = digest.build_digest(s, p, later)
        blocks = digest_blocks.build_digest_blocks(built)
    rendered = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)
    text = digest_blocks.digest_text(built) if hasattr(digest_blocks, "digest_text") else ""
    assert MARKER not in rendered and MARKER not in text and MARKER not in repr(built)
    assert "SG-2026-" not in rendered and "SG-2026-" not in text  # no references either
    for word in ("Domestic abuse", "domestic_abuse", "UMEMBER"):
        assert word not in rendered
    assert "Opened this week: 3. Acknowledged: 1." in rendered
    assert "past their deadline: 2" in rendered  # the two immediate ones left waiting
