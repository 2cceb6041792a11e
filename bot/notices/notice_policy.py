"""Each partnership's reminder policy, and when one of its notices is live or held back.

The policy is the partnership's settings over process-wide defaults (``CSP_DIGEST_AT``);
:class:`NoticeContext` bundles what every reminder source reads for one partnership at
one instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.time.policy import Notice, ReminderPolicy, held_for_working_hours
from bot.time.workdays import WorkingCalendar
from store.models import Partnership

_DEFAULTS = {"digest_at": "mon 09:00"}


def configure_defaults(*, digest_at: str) -> None:
    """Set process-wide defaults from Settings (CSP_DIGEST_AT); partnerships may override."""
    _DEFAULTS["digest_at"] = digest_at


def policy_for(partnership: Partnership, digest_default: str | None = None) -> ReminderPolicy:
    """The partnership's reminder policy (defaults where its settings say nothing)."""
    return ReminderPolicy.from_settings(
        partnership.settings, digest_default=digest_default or _DEFAULTS["digest_at"]
    )


@dataclass(frozen=True)
class NoticeContext:
    """One partnership's policy, zone, calendar and channel, as of ``now``."""

    partnership: Partnership
    policy: ReminderPolicy
    zone: ZoneInfo
    cal: WorkingCalendar
    now: dt.datetime
    channel: str | None


def held(ctx: NoticeContext, notice: Notice) -> bool:
    """A late (catch-up) notice outside working hours: propose it at the next sweep in
    working hours instead, if it is still useful then."""
    return held_for_working_hours(notice.at, ctx.now, ctx.policy, ctx.zone, ctx.cal)


def live(notices: list[Notice], now: dt.datetime) -> Notice | None:
    """The latest of ``notices`` whose time has come and whose useful window is open."""
    found = [n for n in notices if n.at <= now and (n.useful_until is None or now < n.useful_until)]
    return found[-1] if found else None
