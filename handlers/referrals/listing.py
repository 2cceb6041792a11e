"""`/csp referrals`: a lead's open referrals with the buttons that fit; a refusal for others."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.referrals.access import NotALead
from bot.referrals.availability import UNAVAILABLE, referrals_available
from bot.referrals.reading import list_open
from bot.slack.referral_lead import build_referral_list_blocks
from bot.text.numbers import plural
from handlers.referrals.sending import settle
from handlers.uow import Unit


def list_referrals(unit: Unit) -> tuple[str, list[Block]]:
    """(text, blocks) for ``/csp referrals``: the open list for leads, a refusal otherwise;
    without the referral key, that referrals are unavailable (nothing is read)."""
    if not referrals_available():
        return f":warning: {UNAVAILABLE} Until then they cannot be listed or opened here.", []
    try:
        summaries = list_open(unit.session, unit.partnership, unit.me, now=unit.now)
    except NotALead as exc:
        settle(unit)  # the refusal's audit record
        return str(exc), []
    blocks = build_referral_list_blocks(summaries, channel=unit.partnership.safeguarding_channel)
    return f"{plural(len(summaries), 'open safeguarding referral')}.", blocks
