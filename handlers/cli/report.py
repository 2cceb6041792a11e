"""`csp-bot report`: the quarterly scrutiny pack as a Word document or an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.plan.members import ensure_partnership
from bot.plan.years import local_today
from handlers.cli.support import cli_context, fail
from store.db import session_scope


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    quarter: Annotated[
        str | None,
        typer.Option(
            "--quarter",
            "-q",
            help="Plan year and quarter, e.g. 2026Q3 (Q1 is April to June). "
            "Default: the current quarter.",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="docx or xlsx.")] = "docx",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: named after the quarter)."),
    ] = None,
) -> None:
    """Make the quarterly scrutiny pack (Word by default, or Excel)."""
    # Imported here: the pack's model and renderers (python-docx, matplotlib, openpyxl)
    # are for this command only.
    from bot.reports.files import FORMATS, make_pack
    from bot.time.quarters import QuarterError, parse_quarter, quarter_of

    fmt = format.lower().lstrip(".")
    if fmt not in FORMATS:
        fail(f"--format {format!r} is not one of docx, xlsx. Try `--format docx`.")
    chosen = None
    if quarter is not None:
        try:
            chosen = parse_quarter(quarter)
        except QuarterError as exc:
            fail(f"--quarter: {exc}")
    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        now = ctx.clock.now()
        partnership = ensure_partnership(session, ctx.settings, now=now)
        today = local_today(partnership, now)
        if chosen is None:
            chosen = quarter_of(today)
            typer.echo(
                f"No --quarter given: making the pack for the current quarter, {chosen.code}.",
                err=True,
            )
        pack = make_pack(session, partnership, chosen, "xlsx" if fmt == "xlsx" else "docx", now=now)
    target = output or Path(pack.filename)
    try:
        target.write_bytes(pack.data)
    except OSError as exc:
        fail(f"could not write {target}: {exc.strerror or exc}. Check the folder exists.")
    as_at = pack.report.as_at
    position = "" if pack.report.complete else f", the position as at {as_at.day} {as_at:%B %Y}"
    typer.echo(
        f"Wrote {target} ({len(pack.data):,} bytes): the scrutiny pack for "
        f"{pack.report.period}{position}."
    )
