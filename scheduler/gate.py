"""The sweep gate: whether calendar-driven sources must be asked again, or may be skipped.

Calendar-driven sources (reminders, digest) only change what they propose when a
partnership's local clock passes one of its send times or when the plan changes, so a
sweep that sees neither skips them. The fingerprint of the plan tables and the instant
of the last full plan are kept in the database (``sweep_gate``, written in the same
transaction as the rows that plan inserted; see :mod:`scheduler.queries`), so a fresh
``csp-bot sweep`` process skips too; without that table, what this process planned is
remembered in memory instead.
"""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from bot.notices.notice_policy import policy_for
from bot.time.policy import crossed_send_time
from store.models import Partnership

_GATE: dict[str, tuple[str, dt.datetime]] = {}
_GATE_LOCK = threading.Lock()


def remembered(gate_key: str) -> tuple[str, dt.datetime] | None:
    """What this process last planned against the database ``gate_key``."""
    with _GATE_LOCK:
        return _GATE.get(gate_key)


def remember(gate_key: str, fingerprint: str, now: dt.datetime) -> None:
    with _GATE_LOCK:
        _GATE[gate_key] = (fingerprint, now)


def reset_gate() -> None:
    """Forget what this process planned (tests; after restoring a database)."""
    with _GATE_LOCK:
        _GATE.clear()


def calendar_needed(
    last: tuple[str, dt.datetime] | None,
    fingerprint: str,
    partnerships: list[Partnership],
    now: dt.datetime,
    digest: str,
) -> bool:
    """Whether the calendar-driven sources must run: the plan changed since the last full
    plan, the clock went back, or a partnership's send time passed since then."""
    if last is None or last[0] != fingerprint or now < last[1]:
        return True
    for p in partnerships:
        policy = policy_for(p, digest)
        if crossed_send_time(last[1], now, policy.times_of_day(), ZoneInfo(p.timezone)):
            return True
    return False
