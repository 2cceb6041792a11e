"""What a sweep did, or in a dry run would do, and its account for people (the CLI prints it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.time.words import day_month, short_date
from scheduler.delivery.stats import DeliveryStats


@dataclass(frozen=True)
class WouldSend:
    key: str
    kind: str
    target: str
    occurrence: dt.datetime
    late: bool
    text: str
    new: bool  # planned now (True) or already waiting in the outbox (False)


@dataclass
class SweepReport:
    now: dt.datetime
    dry_run: bool
    partnerships: int = 0
    planned: int = 0
    inserted: int = 0
    calendar_planned: bool = False
    outbox: DeliveryStats = field(default_factory=DeliveryStats)
    would_send: list[WouldSend] = field(default_factory=list)
    source_errors: list[str] = field(default_factory=list)

    def lines(self, zone: ZoneInfo | None = None) -> list[str]:
        """A readable account for people (the CLI prints this)."""
        zone = zone or ZoneInfo("Europe/London")
        local = self.now.astimezone(zone)
        when = f"{short_date(local)} {local:%H:%M %Z}"
        out: list[str] = []
        if self.dry_run:
            out.append(f"Dry run at {when}: nothing was sent or written.")
            if not self.would_send:
                out.append("Nothing would be sent.")
            for w in self.would_send:
                due = w.occurrence.astimezone(zone)
                at = f"{day_month(due)} {due:%H:%M}"
                late = " (late)" if w.late else ""
                out.append(f"  would send {w.kind} to {w.target} (due {at}{late}): {w.text}")
            out.append(f"{len(self.would_send)} message(s) would be sent.")
        else:
            s = self.outbox
            out.append(f"Sweep at {when} over {self.partnerships} partnership(s).")
            out.append(
                f"  planned {self.planned} notice(s), {self.inserted} new; sent {s.sent}"
                f" (+{s.reconciled} found already posted),"
                f" retry later {s.retried + s.rate_limited},"
                f" failed {s.failed}, dropped {s.dropped}."
            )
            for key, reason in s.failures:
                out.append(f"  failed: {key}: {reason}")
        for err in self.source_errors:
            out.append(f"  warning: {err}")
        return out
