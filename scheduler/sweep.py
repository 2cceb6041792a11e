"""One scheduler pass: plan what is due from every source, insert it, deliver it.

The same pass runs every minute inside ``csp-bot run``/``serve`` and once per call of
``csp-bot sweep``. It is safe to run in several processes at once: planned rows are
keyed, claimed rows are locked (PostgreSQL) or compare-and-set (SQLite).

Calendar-driven sources (reminders, digest) run only when :mod:`scheduler.gate` says
their proposals may have changed. Other sources (referral escalations) run every sweep,
asked only about the partnerships their pre-filter names (see
:data:`bot.notices.registry.SOURCES`). Slack is loaded only when something is due to
be posted, so an idle cron sweep never imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.context import AppContext
from bot.deliveries import PlannedDelivery
from bot.notices.notice_policy import configure_defaults, policy_for
from bot.notices.registry import SOURCES, Source, check_registry
from bot.plan.members import ensure_partnership as apply_settings_to_partnership
from scheduler.delivery.planned_rows import insert_planned
from scheduler.delivery.records import anything_due
from scheduler.delivery.stats import DeliveryStats
from scheduler.dry_run import would_send_pending, would_send_planned
from scheduler.gate import calendar_needed, remember, remembered
from scheduler.queries import all_partnerships, plan_fingerprint, store_gate, stored_gate
from scheduler.report import SweepReport
from scheduler.shifted_clock import ShiftedClock
from store.db import session_scope
from store.models import Partnership

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)


def _plan(
    session: Session,
    partnership: Partnership,
    now: dt.datetime,
    sources: tuple[Source, ...],
    with_calendar: bool,
    report: SweepReport,
    only: dict[Source, set[int]] | None = None,
) -> list[PlannedDelivery]:
    planned: list[PlannedDelivery] = []
    for source in sources:
        # Skipped sources are never loaded (an idle sweep imports none of them).
        if source.calendar_driven and not with_calendar:
            continue
        if only is not None and source in only and partnership.id not in only[source]:
            continue
        try:
            with session.begin_nested():
                planned.extend(source.propose(session, partnership, now))
        except Exception as exc:  # one broken source must not stop the others
            name = source.name
            log.exception("delivery source %s failed for partnership %s", name, partnership.id)
            report.source_errors.append(f"source {name} failed: {type(exc).__name__}: {exc}")
    return planned


def _prefilter(
    session: Session, sources: tuple[Source, ...], report: SweepReport
) -> dict[Source, set[int]]:
    only: dict[Source, set[int]] = {}
    for source in sources:
        if source.prefilter is None:
            continue
        try:
            with session.begin_nested():
                only[source] = source.prefilter(session)
        except Exception as exc:  # fall back to asking the source for every partnership
            name = source.name
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
    check_registry()
    # The outbox reads the time afresh for each claim: from the context's clock, or
    # from one that reads ``now`` at this moment and runs on from there.
    clock = ctx.clock if now is None else ShiftedClock(ctx.clock, now)
    now = clock.now().astimezone(dt.UTC)
    report = SweepReport(now=now, dry_run=dry_run)
    sources = SOURCES
    digest_default = ctx.settings.digest_cron
    configure_defaults(digest_at=digest_default)
    gate_key = ctx.engine.url.render_as_string(hide_password=True)
    with session_scope(ctx.sessions) as session:
        if ensure_partnership:
            # The settings (partnership channel, zone, admins) apply before planning, so
            # a cron-only deployment follows the environment; a dry run rolls it back.
            apply_settings_to_partnership(session, ctx.settings, now=now)
        partnerships = all_partnerships(session)
        report.partnerships = len(partnerships)
        fingerprint = plan_fingerprint(session)
        stored = stored_gate(session)
        if stored is False:  # no gate table: fall back to what this process planned
            last = remembered(gate_key)
        else:
            last = stored if isinstance(stored, tuple) else None
        with_calendar = dry_run or calendar_needed(
            last, fingerprint, partnerships, now, digest_default
        )
        report.calendar_planned = with_calendar
        only = _prefilter(session, sources, report)
        for partnership in partnerships:
            planned = _plan(session, partnership, now, sources, with_calendar, report, only)
            report.planned += len(planned)
            if dry_run:
                would_send_planned(session, partnership, planned, now, report)
                continue
            late_after = dt.timedelta(
                minutes=policy_for(partnership, digest_default).late_after_minutes
            )
            report.inserted += len(
                insert_planned(session, partnership.id, planned, now, late_after=late_after)
            )
        if dry_run:
            would_send_pending(session, now, report)
            session.rollback()
            return report
        if with_calendar and not report.source_errors and stored is not False:
            store_gate(session, fingerprint, now)
    if with_calendar and not report.source_errors:
        remember(gate_key, fingerprint, now)
    if anything_due(ctx.sessions, clock.now()):
        report.outbox = _deliver(ctx, clock, client, per_channel_interval)
    report.outbox.inserted = report.inserted
    return report


def _deliver(
    ctx: AppContext, clock: Clock, client: WebClient | None, per_channel_interval: float
) -> DeliveryStats:
    """Post every due row through the outbox; the admins hear of rows failed for good."""
    # Posting loads slack_sdk (the WebClient with it): imported only when something is
    # due, so an idle sweep never loads Slack.
    from scheduler.delivery.client import delivery_client
    from scheduler.delivery.engine import notify_admins
    from scheduler.delivery.outbox import Outbox

    outbox = Outbox(
        ctx.sessions,
        client or delivery_client(ctx.settings),
        clock=clock,
        per_channel_interval=per_channel_interval,
        on_permanent_failure=notify_admins,
    )
    return outbox.run()
