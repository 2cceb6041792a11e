"""`csp-bot plan ...`: import, show, export and roll over the action plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.plan.members import ensure_partnership
from bot.plan.years import current_plan_year, local_today, plan_year_label
from handlers.cli.support import cli_context, fail
from store.db import session_scope

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from bot.context import AppContext
    from bot.plan.models import ObjectiveSummary
    from bot.planfiles.exporter import ExportFormat
    from store.models import Partnership

plan_app = typer.Typer(
    help="Import, show, export and roll over the action plan.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command("import")
def plan_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="The plan: the seed text (.txt, tab-separated), CSV (.csv, .tsv; UTF-8), "
            "Excel (.xlsx) or this bot's own JSON export (.json)."
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option(
            help="Plan year to import into, e.g. 2026 for 2026/27 (default: the year the "
            "file is about; a year that has not begun only with --year)."
        ),
    ] = None,
) -> None:
    """Import a plan file: seed text, CSV, Excel (.xlsx) or JSON. All or nothing: a bad
    file imports nothing and says why."""
    # Imported here: the plan-file readers and the timescale parser are for this command.
    from bot.planfiles.importer import import_plan_bytes

    if not file.exists():
        fail(
            f"{file} does not exist. Check the name and folder, and give the path of a "
            ".txt, .csv, .xlsx or .json plan."
        )
    if not file.is_file():
        fail(f"{file} is a folder, not a file. Give the path of a .txt, .csv, .xlsx or .json plan.")
    data = file.read_bytes()
    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        now = ctx.clock.now()
        partnership = ensure_partnership(session, ctx.settings, now=now)
        report = import_plan_bytes(session, partnership, data, file.name, now=now, plan_year=year)
    typer.echo(f"Imported {file.name}.")
    for line in report.lines():
        typer.echo(line)
    current = current_plan_year(local_today(partnership, now))
    if report.plan_year != partnership.plan_year:
        typer.echo(
            f"The {plan_year_label(report.plan_year)} plan is kept beside the live "
            f"{plan_year_label(partnership.plan_year)} plan; `plan show`, `/csp due` and "
            "the reminders follow the live one."
        )
    elif report.plan_year < current:
        typer.echo(
            f"Its dates belong to the {plan_year_label(report.plan_year)} plan. To make them "
            f"live this year: `csp-bot plan rollover --year {current}`."
        )
    typer.echo("Next: `csp-bot plan show` to check the dates.")


def _rag(summary: ObjectiveSummary) -> str:
    colours = {"red": "[red]red[/]", "amber": "[yellow]amber[/]", "green": "[green]green[/]"}
    if summary.status == "done":
        return "[green]done[/]"
    return colours.get(summary.rag or "", "-")


def _flags(summary: ObjectiveSummary) -> str:
    flags = []
    if summary.overdue and summary.overdue_since:
        flags.append(f"overdue since {summary.overdue_since:%d %b %Y}")
    if summary.needs_dating:
        flags.append(f"needs a date: {summary.timescale_text!r}")
    if summary.status == "waived":
        flags.append("waived")
    if not summary.owners:
        flags.append("no owner")
    return "; ".join(flags)


@plan_app.command("show")
def plan_show(
    limit: Annotated[int, typer.Option(help="Next dates to list per objective.")] = 3,
) -> None:
    """Print the plan: objective, owner, next dates, RAG and flags."""
    # Imported here: rich and the plan's reading (working days, bank holidays) are for this.
    from rich.console import Console
    from rich.table import Table

    from bot.plan.queries import current_objectives
    from bot.plan.reading import list_objectives
    from bot.plan.schedule import partnership_calendar, upcoming_items

    console = Console(soft_wrap=False, width=max(Console().width, 120))
    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        now = ctx.clock.now()
        partnership = ensure_partnership(session, ctx.settings, now=now)
        today = local_today(partnership, now)
        cal = partnership_calendar(partnership)
        summaries = list_objectives(session, partnership, today)
        objectives = {o.id: o for o in current_objectives(session, partnership)}
        label = plan_year_label(partnership.plan_year)
        table = Table(title=f"{partnership.name}: plan {label}", show_lines=True)
        for column in ("#", "Objective", "Owner", "Next dates", "RAG", "Flags"):
            table.add_column(column, overflow="fold")
        for number, summary in enumerate(summaries, start=1):
            upcoming = upcoming_items(objectives[summary.id], today, cal)[:limit]
            dates = "\n".join(
                label if month_only else f"{d:%d %b %Y}  {label}"
                for d, label, month_only in upcoming
            )
            if not dates:
                dates = "ongoing: progress checks" if summary.ongoing else "none ahead"
            table.add_row(
                str(number),
                summary.title,
                ", ".join(summary.owners) or "-",
                dates,
                _rag(summary),
                _flags(summary),
            )
    if not summaries:
        typer.echo(
            "The plan is empty. Load one with `csp-bot plan import FILE` "
            "(the seed text, CSV or XLSX)."
        )
        return
    console.print(table)


@plan_app.command("export")
def plan_export(
    format: Annotated[str, typer.Option("--format", "-f", help="csv, json or xlsx.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    refresh_names: Annotated[
        bool,
        typer.Option(
            "--refresh-names/--cached-names",
            help="XLSX: read owners' names older than a week from Slack again (needs "
            "SLACK_BOT_TOKEN), or use the names already known.",
        ),
    ] = True,
) -> None:
    """Export the current plan year (JSON to stdout by default; XLSX is the workbook)."""
    # Imported here: the plan-file writers are for this command.
    from bot.planfiles.exporter import export_plan

    fmt = format.lower()
    if fmt not in ("csv", "json", "xlsx"):
        fail(f"--format {format!r} is not one of csv, json, xlsx.")
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        fail("XLSX is binary: add `--output plan.xlsx`.")
    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        now = ctx.clock.now()
        partnership = ensure_partnership(session, ctx.settings, now=now)
        names: dict[str, str] = {}
        if fmt == "xlsx":
            names = _owner_names(ctx, session, partnership, now=now, refresh=refresh_names)
        data = export_plan(
            session,
            partnership,
            _as_format(fmt),
            today=local_today(partnership, now),
            names=names,
        )
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        try:
            output.write_bytes(data)
        except OSError as exc:
            fail(f"could not write {output}: {exc.strerror or exc}. Check the folder exists.")
        typer.echo(f"Wrote {output} ({len(data)} bytes).", err=True)


def _owner_names(
    ctx: AppContext, session: Session, partnership: Partnership, *, now: dt.datetime, refresh: bool
) -> dict[str, str]:
    # Imported here: slack_sdk only when a workbook is written.
    from handlers.app import make_client
    from handlers.names import owner_names

    client = make_client(ctx.settings) if refresh and ctx.settings.slack_bot_token else None
    return owner_names(session, partnership, client, now=now)


def _as_format(fmt: str) -> ExportFormat:
    if fmt == "csv":
        return "csv"
    if fmt == "xlsx":
        return "xlsx"
    return "json"


@plan_app.command("rollover")
def plan_rollover(
    year: Annotated[int, typer.Option(help="The new plan year, e.g. 2026.")],
    force: Annotated[
        bool, typer.Option("--force", help="Start a plan year that has not begun yet.")
    ] = False,
) -> None:
    """Start a new plan year from the last one; the old year stays readable."""
    # Imported here: rolling over re-reads every timescale (the timescale parser).
    from bot.planfiles.rollover import rollover

    with cli_context(referral_key=False) as ctx, session_scope(ctx.sessions) as session:
        now = ctx.clock.now()
        partnership = ensure_partnership(session, ctx.settings, now=now)
        current = current_plan_year(local_today(partnership, now))
        if year > current and not force:
            fail(
                f"the {year} plan year has not started yet (plan years start in April; "
                f"this is {current}). Rolling over now would hide the live {current} "
                f"deadlines from reminders and /csp due. Add --force if you mean it.",
                code=1,
            )
        report = rollover(session, partnership, year, now=now)
    typer.echo(report.summary())
    typer.echo("Next: `csp-bot plan show` to check the new dates.")
