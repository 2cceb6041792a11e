"""The App Home's safeguarding section for a lead: counts and the oldest waiting references."""

from __future__ import annotations

import datetime as dt
from typing import Final

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.ids import Ids
from bot.referrals.models import LeadHomeReferrals
from bot.referrals.vocabulary import URGENCY_LABELS, Urgency, label

HOME_WAITING_MAX: Final = 5


def _age(at: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if hours < 6 else f"{hours} h"
    return f"{hours // 24} days"


def build_home_referral_blocks(r: LeadHomeReferrals) -> list[Block]:
    """A lead's App Home section: counts and the oldest waiting references; no contents."""
    warn = ":rotating_light: " if r.overdue else ""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*:shield: Safeguarding referrals*\n{warn}{r.open_total} open · "
                f"{r.awaiting} awaiting acknowledgement · {r.overdue} past their "
                "acknowledgement deadline"
            )
        )
    ]
    for w in r.oldest_waiting[:HOME_WAITING_MAX]:
        flag = " · *past deadline*" if w.overdue else ""
        icon = ":rotating_light:" if w.urgency == Urgency.IMMEDIATE else ":hourglass:"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{icon} *{w.reference}* · {label(w.urgency, URGENCY_LABELS)} · "
                    f"waiting {_age(w.created_at, r.now)}{flag}"
                ),
                accessory=ButtonElement(
                    text=PlainTextObject(text="View"),
                    action_id=str(Ids.REFERRAL_VIEW),
                    value=w.reference,
                ),
            )
        )
    more = r.awaiting - min(len(r.oldest_waiting), HOME_WAITING_MAX)
    tail = f"{more} more awaiting. " if more > 0 else ""
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{tail}Only safeguarding leads see this. Type `/csp referrals` "
                    "to acknowledge, assign or act on open referrals."
                    if r.open_total
                    else "Only safeguarding leads see this. No referrals are open."
                )
            ]
        )
    )
    return blocks
