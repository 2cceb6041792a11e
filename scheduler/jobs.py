"""APScheduler wiring: fixed in-memory jobs with stable ids; the database is the truth.

APScheduler's job stores must not be shared between schedulers, so nothing is stored
there: every process runs the same three jobs and the outbox's unique keys and row
claims make them safe to run side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import AppContext
from bot.notices.registry import check_registry
from bot.referrals.retention import purge_expired
from bot.time.policy import parse_digest_at
from scheduler.queries import all_partnerships
from scheduler.sweep import run_sweep
from store.db import session_scope

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

SWEEP_JOB = "csp-sweep"
DIGEST_JOB = "csp-digest"
RETENTION_JOB = "csp-retention"


def sweep_job(ctx: AppContext, client: WebClient) -> None:
    try:
        report = run_sweep(ctx, client=client)
    except Exception:
        log.exception("scheduled sweep failed; the next one will pick up where it stopped")
        return
    if report.outbox.sent or report.outbox.failed:
        log.info("sweep: %s", " ".join(report.lines(ctx.settings.zone)))


def retention_job(ctx: AppContext) -> None:
    """Purge referral records past their retention date (not without the referral key:
    ``purge_expired`` then leaves every referral alone)."""
    now = ctx.clock.now()
    with session_scope(ctx.sessions) as session:
        for partnership in all_partnerships(session):
            try:
                with session.begin_nested():
                    purge_expired(session, partnership, now)
            except Exception:
                log.exception("retention pass failed for partnership %s", partnership.id)


def start_scheduler(ctx: AppContext, client: WebClient) -> BackgroundScheduler:
    """Start the sweep (every minute), digest (weekly cron) and retention (daily) jobs."""
    check_registry()  # a delivery kind without a renderer stops start-up
    zone = ctx.settings.zone
    digest = parse_digest_at(ctx.settings.digest_cron)
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    common: dict[str, Any] = {
        "max_instances": 1,
        "coalesce": True,
        "replace_existing": True,
        "misfire_grace_time": 300,
    }
    scheduler.add_job(
        sweep_job, IntervalTrigger(minutes=1), id=SWEEP_JOB, args=(ctx, client), **common
    )
    # The digest is itself a keyed delivery planned by each sweep; this job only makes
    # sure a sweep runs right at digest time.
    scheduler.add_job(
        sweep_job,
        CronTrigger(
            day_of_week=digest.cron_day,
            hour=digest.at.hour,
            minute=digest.at.minute,
            timezone=zone,
        ),
        id=DIGEST_JOB,
        args=(ctx, client),
        **common,
    )
    scheduler.add_job(
        retention_job,
        CronTrigger(hour=3, minute=17, timezone=zone),
        id=RETENTION_JOB,
        args=(ctx,),
        **common,
    )
    scheduler.start()
    return scheduler
