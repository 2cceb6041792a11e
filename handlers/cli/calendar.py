"""`csp-bot calendar ...`: export the calendar file, print or change the subscribe link."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.plan.members import ensure_partnership
from handlers.cli.support import cli_context, fail
from store.db import session_scope

calendar_app = typer.Typer(
    help="The plan's deadlines and meetings as a calendar (.ics) to import or subscribe to.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")


@calendar_app.command("export")
def calendar_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the calendar: every deadline as an all-day event, every dated meeting."""
    # Imported here: icalendar and the feed are for the calendar commands.
    from handlers.calendar import feed_bytes

    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
        data = feed_bytes(session, partnership, ctx.clock.now())
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"could not write {output}: {exc.strerror or exc}. Check the folder exists.")
    typer.echo(
        f"Wrote {output} ({len(data)} bytes). Import it into Outlook or Google Calendar; "
        "importing a newer one updates the same events.",
        err=True,
    )


def _show_link(link: str, *, public: bool, rotated: bool) -> None:
    typer.echo(link)
    if rotated:
        typer.echo("The old link no longer works: give members this one.", err=True)
    if not public:
        typer.echo(
            "That is the path on `csp-bot serve`. Set CSP_PUBLIC_URL to the address it is "
            "reached at (like https://csp-bot.example.org) for the full link, and for "
            "`/csp calendar` to give it to members.",
            err=True,
        )


@calendar_app.command("url")
def calendar_url() -> None:
    """Print the link to subscribe to the calendar (made on first use)."""
    from bot.plan.feed import ensure_secret
    from handlers.calendar import subscribe_link

    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
        link = subscribe_link(ctx.settings, ensure_secret(partnership))
    _show_link(link, public=ctx.settings.public_url is not None, rotated=False)


@calendar_app.command("rotate")
def calendar_rotate() -> None:
    """Make a new subscribe link; the old one stops working at once."""
    from bot.plan.feed import rotate_secret
    from handlers.calendar import subscribe_link

    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
        link = subscribe_link(ctx.settings, rotate_secret(partnership))
    _show_link(link, public=ctx.settings.public_url is not None, rotated=True)
