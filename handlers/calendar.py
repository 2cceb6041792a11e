"""The calendar feed: `/csp calendar` (the subscribe link) and `GET /calendar/<secret>.ics`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan.export_queries import meeting_stamp
from bot.plan.feed import build_feed, ensure_secret, feed_path, partnership_for_secret
from bot.plan.reading import plan_memo
from bot.plan.schedule import partnership_calendar
from bot.plan.years import local_today
from bot.planfiles.icsfile import write_ics
from bot.settings import Settings
from bot.slack.blocks import context, section
from bot.text.mrkdwn import esc
from handlers.uow import Unit
from store.db import session_scope
from store.models import Partnership

NOT_PUBLISHED = (
    "The calendar feed is not published yet, so there is no link to subscribe to. Ask a "
    "partnership admin to set CSP_PUBLIC_URL (the address `csp-bot serve` is reached at) "
    "and restart the bot; then type `/csp calendar` again."
)


def subscribe_link(settings: Settings, secret: str) -> str:
    """The feed's address: after CSP_PUBLIC_URL when set, else the path alone."""
    return f"{settings.public_url or ''}{feed_path(secret)}"


def calendar_reply(unit: Unit) -> tuple[str, list[Block]]:
    """`/csp calendar`: the subscribe link (the reply is ephemeral), or whom to ask."""
    settings = unit.ctx.settings
    if settings.public_url is None:
        return NOT_PUBLISHED, [section(f":calendar: {NOT_PUBLISHED}")]
    link = subscribe_link(settings, ensure_secret(unit.partnership))
    text = f"Subscribe to the plan's deadlines and meetings: {link}"
    return text, [
        section(
            ":calendar: Subscribe to the plan's deadlines and meetings with this link:\n"
            f"`{esc(link)}`\n"
            "*Outlook*: Add calendar, Subscribe from web. *Google Calendar*: Other "
            "calendars, +, From URL. The calendar updates itself."
        ),
        context(
            "Only you can see this. Keep the link to yourself: anyone who has it can read "
            "the plan's dates (never any referral). An admin can change it with "
            "`csp-bot calendar rotate`."
        ),
    ]


def feed_bytes(session: Session, partnership: Partnership, now: dt.datetime) -> bytes:
    """The partnership's feed as .ics bytes, built once per plan snapshot, day and state
    of its meetings."""
    today = local_today(partnership, now)
    key = (
        "calendar_feed",
        today,
        partnership.plan_year,
        partnership_calendar(partnership),
        meeting_stamp(session, partnership.id),
    )
    return plan_memo(
        session,
        partnership,
        key,
        lambda: write_ics(build_feed(session, partnership, today), now=now),
    )


def feed_responder(ctx: AppContext) -> Callable[[str], bytes | None]:
    """What the HTTP server calls for `/calendar/<secret>.ics`: the feed, or None (404)."""

    def answer(secret: str) -> bytes | None:
        with session_scope(ctx.sessions) as session:
            partnership = partnership_for_secret(session, secret)
            if partnership is None:
                return None
            return feed_bytes(session, partnership, ctx.clock.now())

    return answer
