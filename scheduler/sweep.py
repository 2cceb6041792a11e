"""One scheduler pass: plan what is due from every source, insert it, deliver it.

The same pass runs every minute inside ``csp-bot run``/``serve`` and once per call of
``csp-bot sweep``. It is safe to run in several processes at once: planned rows are
keyed, claimed rows are locked (PostgreSQL) or compare-and-set (SQLite).

Calendar-driven sources (reminders, digest) only change what they propose when a
partnership's local clock passes one of its send times or when the plan changes, so a
sweep that sees neither skips them. The fingerprint of the plan tables and the instant
of the last full plan are kept in the database (``sweep_gate``, written in the same
transaction as the rows that plan inserted), so a fresh ``csp-bot sweep`` process skips
too. Other sources (referral escalations) run every sweep, asked only about the
partnerships that have a referral waiting for acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.deliveries import (
    DeliverySource,
    OutboundMessage,
    PlannedDelivery,
    is_calendar_driven,
    load_sources,
    renderer_for,
)
from bot.notices.reminders import configure_defaults, policy_for
from bot.time.policy import crossed_send_time
from scheduler.delivery.engine import ShiftedClock, notify_admins
from scheduler.delivery.outbox import Outbox, OutboxStats, existing_keys, insert_planned
from store.db import session_scope
from store.models import (
    Delivery,
    DeliveryStatus,
    Meeting,
    Member,
    Objective,
    ObjectiveOwner,
    Partnership,
    ProgressEntry,
    Referral,
    ScheduleItem,
    SweepGate,
)

log = logging.getLogger(__name__)


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
    outbox: OutboxStats = field(default_factory=OutboxStats)
    would_send: list[WouldSend] = field(default_factory=list)
    source_errors: list[str] = field(default_factory=list)

    def lines(self, zone: ZoneInfo | None = None) -> list[str]:
        """A readable account for people (the CLI prints this)."""
        zone = zone or ZoneInfo("Europe/London")
        when = self.now.astimezone(zone).strftime("%a %-d %b %Y %H:%M %Z")
        out: list[str] = []
        if self.dry_run:
            out.append(f"Dry run at {when}: nothing was sent or written.")
            if not self.would_send:
                out.append("Nothing would be sent.")
            for w in self.would_send:
                at = w.occurrence.astimezone(zone).strftime("%-d %b %H:%M")
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


# --------------------------------------------------------------------------- gate

_GATE: dict[str, tuple[str, dt.datetime]] = {}
_GATE_LOCK = threading.Lock()


def plan_fingerprint(session: Session) -> str:
    """A cheap digest of everything the calendar-driven sources read."""
    parts: list[object] = []
    parts.extend(
        session.execute(
            select(
                func.count(Objective.id),
                func.max(Objective.id),
                func.max(Objective.updated_at),
                func.count(Objective.snoozed_until),
                func.max(Objective.snoozed_until),
                func.min(Objective.snoozed_until),
                func.count(Objective.id).filter(Objective.status == "open"),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(ScheduleItem.id),
                func.max(ScheduleItem.id),
                func.count(ScheduleItem.done_at),
                func.max(ScheduleItem.done_at),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(ObjectiveOwner.id),
                func.max(ObjectiveOwner.id),
                func.count(ObjectiveOwner.slack_user_id),
            )
        ).one()
    )
    parts.extend(
        session.execute(select(func.count(ProgressEntry.id), func.max(ProgressEntry.id))).one()
    )
    parts.extend(
        session.execute(
            select(
                func.count(Member.id),
                func.max(Member.id),
                func.count(Member.id).filter(Member.role == "admin"),
            )
        ).one()
    )
    parts.extend(
        session.execute(
            select(
                Meeting.id,
                Meeting.meeting_date,
                Meeting.start_time,
                Meeting.papers_due,
                Meeting.month,
                Meeting.objective_id,
            ).order_by(Meeting.id)
        ).all()
    )
    parts.extend(
        session.execute(
            select(
                Partnership.id,
                Partnership.timezone,
                Partnership.plan_year,
                Partnership.partnership_channel,
                Partnership.settings,
            ).order_by(Partnership.id)
        ).all()
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


GATE_NAME = "calendar"


def _stored_gate(session: Session) -> tuple[str, dt.datetime] | bool | None:
    """The gate kept in the database; False when its table is not there (yet)."""
    try:
        with session.begin_nested():
            row = session.get(SweepGate, GATE_NAME)
    except DBAPIError:
        return False
    return None if row is None else (row.fingerprint, row.planned_at)


def _store_gate(session: Session, fingerprint: str, now: dt.datetime) -> bool:
    """Record a full plan in the same transaction as the rows it inserted."""
    try:
        with session.begin_nested():
            row = session.get(SweepGate, GATE_NAME, with_for_update=_on_pg(session))
            if row is None:
                session.add(SweepGate(name=GATE_NAME, fingerprint=fingerprint, planned_at=now))
            else:
                row.fingerprint = fingerprint
                row.planned_at = now
            session.flush()
    except DBAPIError:
        return False
    return True


def _on_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _calendar_needed(
    last: tuple[str, dt.datetime] | None,
    fingerprint: str,
    partnerships: list[Partnership],
    now: dt.datetime,
    digest: str,
) -> bool:
    if last is None or last[0] != fingerprint or now < last[1]:
        return True
    for p in partnerships:
        policy = policy_for(p, digest)
        if crossed_send_time(last[1], now, policy.times_of_day(), ZoneInfo(p.timezone)):
            return True
    return False


def reset_gate() -> None:
    """Forget what this process planned (tests; after restoring a database)."""
    with _GATE_LOCK:
        _GATE.clear()


# --------------------------------------------------------------------------- sweep


def _default_client(ctx: AppContext) -> WebClient:
    token = ctx.settings.slack_bot_token
    return WebClient(
        token=token.get_secret_value() if token is not None else None,
        base_url=ctx.settings.slack_api_url,
    )


def _open_referral_partnerships(session: Session) -> set[int]:
    """Partnerships with a referral still waiting for acknowledgement.

    Escalations are only ever proposed for such referrals (see
    ``bot.referrals.core.escalation_source``), so the source is not asked about the others:
    one query for every partnership instead of one per partnership per sweep.
    """
    return set(
        session.scalars(
            select(Referral.partnership_id)
            .where(
                Referral.acknowledged_at.is_(None),
                Referral.closed_at.is_(None),
                Referral.purged_at.is_(None),
            )
            .distinct()
        )
    )


# Sources that only ever propose something for a few partnerships, with a single query
# naming those partnerships (a pre-filter may only leave out partnerships for which the
# source would certainly propose nothing).
PREFILTERS: dict[str, Callable[[Session], set[int]]] = {
    "bot.referrals.core:escalation_source": _open_referral_partnerships,
}


def _plan(
    session: Session,
    partnership: Partnership,
    now: dt.datetime,
    sources: list[tuple[str, DeliverySource]],
    with_calendar: bool,
    report: SweepReport,
    only: dict[str, set[int]] | None = None,
) -> list[PlannedDelivery]:
    planned: list[PlannedDelivery] = []
    for name, source in sources:
        if is_calendar_driven(source) and not with_calendar:
            continue
        if only is not None and name in only and partnership.id not in only[name]:
            continue
        try:
            with session.begin_nested():
                planned.extend(source(session, partnership, now))
        except Exception as exc:  # one broken source must not stop the others
            log.exception("delivery source %s failed for partnership %s", name, partnership.id)
            report.source_errors.append(f"source {name} failed: {type(exc).__name__}: {exc}")
    return planned


def _prefilter(
    session: Session, sources: list[tuple[str, DeliverySource]], report: SweepReport
) -> dict[str, set[int]]:
    only: dict[str, set[int]] = {}
    for name, _source in sources:
        prefilter = PREFILTERS.get(name)
        if prefilter is None:
            continue
        try:
            with session.begin_nested():
                only[name] = prefilter(session)
        except Exception as exc:  # fall back to asking the source for every partnership
            log.exception("pre-filter for source %s failed", name)
            report.source_errors.append(f"pre-filter {name} failed: {type(exc).__name__}: {exc}")
    return only


def run_sweep(
    ctx: AppContext,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    client: WebClient | None = None,
    per_channel_interval: float = 1.0,
    ensure_partnership: bool = True,
) -> SweepReport:
    """Plan, insert and deliver for every partnership; with ``dry_run`` only report."""
    # The outbox reads the time afresh for each claim: from the context's clock, or
    # from one that reads ``now`` at this moment and runs on from there.
    clock = ctx.clock if now is None else ShiftedClock(ctx.clock, now)
    now = clock.now().astimezone(dt.UTC)
    report = SweepReport(now=now, dry_run=dry_run)
    sources = load_sources()
    digest_default = ctx.settings.digest_cron
    configure_defaults(digest_at=digest_default)
    gate_key = ctx.engine.url.render_as_string(hide_password=True)
    with session_scope(ctx.sessions) as session:
        if ensure_partnership:
            # The settings (partnership channel, zone, admins) apply before planning, so
            # a cron-only deployment follows the environment; a dry run rolls it back.
            from bot.plan.members import ensure_partnership as _ensure

            _ensure(session, ctx.settings, now=now)
        partnerships = list(session.scalars(select(Partnership).order_by(Partnership.id)))
        report.partnerships = len(partnerships)
        fingerprint = plan_fingerprint(session)
        stored = _stored_gate(session)
        if stored is False:  # no gate table: fall back to what this process planned
            with _GATE_LOCK:
                last = _GATE.get(gate_key)
        else:
            last = stored if isinstance(stored, tuple) else None
        with_calendar = dry_run or _calendar_needed(
            last, fingerprint, partnerships, now, digest_default
        )
        report.calendar_planned = with_calendar
        only = _prefilter(session, sources, report)
        for partnership in partnerships:
            planned = _plan(session, partnership, now, sources, with_calendar, report, only)
            report.planned += len(planned)
            if dry_run:
                _dry(session, partnership, planned, now, report)
                continue
            late_after = dt.timedelta(
                minutes=policy_for(partnership, digest_default).late_after_minutes
            )
            report.inserted += len(
                insert_planned(session, partnership.id, planned, now, late_after=late_after)
            )
        if dry_run:
            _dry_pending(session, now, report)
            session.rollback()
            return report
        if with_calendar and not report.source_errors and stored is not False:
            _store_gate(session, fingerprint, now)
    if with_calendar and not report.source_errors:
        with _GATE_LOCK:
            _GATE[gate_key] = (fingerprint, now)
    outbox = Outbox(
        ctx.sessions,
        client or _default_client(ctx),
        clock=clock,
        per_channel_interval=per_channel_interval,
        on_permanent_failure=notify_admins,
    )
    report.outbox = outbox.run()
    report.outbox.inserted = report.inserted
    return report


def _text_of(message: OutboundMessage | None) -> str:
    return message.text if message is not None else "(would be dropped: no longer relevant)"


def _dry(
    session: Session,
    partnership: Partnership,
    planned: list[PlannedDelivery],
    now: dt.datetime,
    report: SweepReport,
) -> None:
    live = [
        p
        for p in planned
        if p.occurrence <= now and (p.useful_until is None or now < p.useful_until)
    ]
    known = existing_keys(session, [p.key for p in live])
    late_after = dt.timedelta(minutes=policy_for(partnership).late_after_minutes)
    seen: set[str] = set()
    for p in live:
        if p.key in known or p.key in seen:
            continue
        seen.add(p.key)
        row = Delivery(
            partnership_id=partnership.id,
            key=p.key,
            kind=p.kind,
            target=p.target,
            occurrence=p.occurrence,
            objective_id=p.objective_id,
            meeting_id=p.meeting_id,
            referral_id=p.referral_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            late=now - p.occurrence > late_after,
            payload=dict(p.payload),
            created_at=now,
        )
        renderer = renderer_for(p.kind)
        message = renderer(session, row, now) if renderer else None
        report.would_send.append(
            WouldSend(p.key, p.kind, p.target, p.occurrence, row.late, _text_of(message), True)
        )


def _dry_pending(session: Session, now: dt.datetime, report: SweepReport) -> None:
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(500)
    )
    for row in rows:
        renderer = renderer_for(row.kind)
        message = renderer(session, row, now) if renderer else None
        report.would_send.append(
            WouldSend(
                row.key, row.kind, row.target, row.occurrence, row.late, _text_of(message), False
            )
        )
