"""`csp-bot sweep [--now ISO-8601] [--dry-run]`: one scheduler pass, then exit."""

from __future__ import annotations

import datetime as dt
import logging

import typer

from bot.clock import FixedClock
from bot.errors import UsageError
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


def channel_warning(settings: Settings) -> str | None:
    """One sentence when CSP_PARTNERSHIP_CHANNEL is unset (what then goes nowhere)."""
    if settings.partnership_channel:
        return None
    return (
        "CSP_PARTNERSHIP_CHANNEL is not set, so the weekly digest, meeting notices and "
        "reminders for objectives without an owner have nowhere to go: set it to the "
        "partnership channel's ID (like C0123ABCD)."
    )


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
            warning = channel_warning(ctx.settings)
            if warning is not None:
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
