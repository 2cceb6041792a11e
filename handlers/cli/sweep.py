"""`csp-bot sweep [--now ISO-8601] [--dry-run]`: one scheduler pass, then exit."""

from __future__ import annotations

import datetime as dt
import logging

import typer

from bot.clock import FixedClock
from bot.context import AppContext
from bot.errors import UsageError
from bot.plan.members import ensure_partnership
from bot.plan.setup import current_setup, env_differences
from bot.settings import Settings
from handlers.cli.support import cli_context, fail

log = logging.getLogger(__name__)

USAGE = "csp-bot sweep [--now 2026-12-07T09:00] [--dry-run]"


def parse_now(text: str, zone: dt.tzinfo) -> dt.datetime:
    """ISO 8601; a time without an offset is read in the partnership's zone."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{text!r} is not an ISO 8601 date and time (for example 2026-12-07T09:00).", USAGE
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def channel_warning(settings: Settings, stored: str | None = None) -> str | None:
    """One sentence when no partnership channel is set, neither in the database
    (``stored``, from `/csp setup` or an earlier start) nor in CSP_PARTNERSHIP_CHANNEL."""
    if settings.partnership_channel or stored:
        return None
    return (
        "CSP_PARTNERSHIP_CHANNEL is not set, so the weekly digest, meeting notices and "
        "reminders for objectives without an owner have nowhere to go: choose the "
        "partnership channel with `/csp setup` in Slack, or set the variable to its ID "
        "(like C0123ABCD)."
    )


def start_warnings(ctx: AppContext) -> list[str]:
    """What start-up should say about the configuration: no partnership channel, and
    variables that `/csp setup` has since overridden in the database. Writes nothing."""
    with ctx.sessions() as session:
        session.info["clock"] = ctx.clock
        try:
            partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
            stored = current_setup(session, partnership, digest_default=ctx.settings.digest_cron)
            found = env_differences(partnership, ctx.settings, stored)
            warning = channel_warning(ctx.settings, partnership.partnership_channel)
        finally:
            session.rollback()
    return ([warning] if warning else []) + found


def register(app: typer.Typer) -> None:
    @app.command("sweep")
    def sweep(
        now: str = typer.Option(
            None, "--now", help="Pretend it is this instant (ISO 8601; local zone if no offset)."
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Show what would be sent; send and write nothing."
        ),
    ) -> None:
        """Run one scheduler pass: plan what is due, send it, and exit (for cron)."""
        # Imported here: the scheduler and its delivery engine stay off the path of the
        # other commands.
        from scheduler.sweep import run_sweep

        with cli_context(referral_key=False) as ctx:
            for warning in start_warnings(ctx):
                log.warning("%s", warning)
            if now is not None:
                try:
                    at = parse_now(now, ctx.settings.zone)
                except UsageError as exc:
                    fail(f"{exc} Usage: {exc.usage}")
                ctx.clock = FixedClock(at)
            if not dry_run and ctx.settings.slack_bot_token is None:
                fail(
                    "SLACK_BOT_TOKEN is not set, so nothing can be sent. Set it, or add "
                    "--dry-run to see what would be sent."
                )
            report = run_sweep(ctx, dry_run=dry_run)
            for line in report.lines(ctx.settings.zone):
                typer.echo(line)
