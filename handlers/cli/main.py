"""`csp-bot` command line: the composition root, with every command group registered.

Command groups live in their own modules (`COMMAND_GROUPS`); each exposes
``register(app: typer.Typer) -> None``. Those modules import what only some commands
need (Slack, the scheduler, the referral modules, plan files, rich) inside the commands
that need it, so `csp-bot plan ...` and `csp-bot sweep` load no more than they use.
"""

from __future__ import annotations

import gc

# Start-up builds only objects that live until exit (modules, classes, mappers), so the
# collector is paused while it imports them and they are then frozen out of every later
# collection, the one at exit included (see the end of this module).
gc.disable()

from collections.abc import Callable  # noqa: E402

import typer  # noqa: E402

from handlers.cli import calendar, plan, referrals, report, slack, sweep  # noqa: E402
from handlers.cli.support import cli_context  # noqa: E402

app = typer.Typer(
    name="csp-bot",
    help="Run the statutory calendar of a Community Safety Partnership from Slack.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# The modules that add commands, registered in this order.
COMMAND_GROUPS: tuple[Callable[[typer.Typer], None], ...] = (
    plan.register,
    calendar.register,
    referrals.register,
    report.register,
    sweep.register,
    slack.register,
)


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (other commands do this automatically)."""
    with cli_context(migrate=True, referral_key=False) as ctx:
        typer.echo(f"Database is up to date: {ctx.engine.url.render_as_string(hide_password=True)}")


def _register_command_groups() -> None:
    for register in COMMAND_GROUPS:
        register(app)


_register_command_groups()
gc.freeze()
gc.enable()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
