"""`csp-bot` command line: the composition root, with every command group registered.

Command groups live in their own modules (`COMMAND_GROUPS`); each exposes
``register(app: typer.Typer) -> None``. Those modules import what reaches Slack, the
scheduler or the referral key inside the commands that need it, so `csp-bot plan ...`
and `csp-bot sweep` load no more than they use.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import typer

from handlers.cli import plan, referrals, slack, sweep
from handlers.cli.support import cli_context

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
    referrals.register,
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


def main() -> None:
    # What start-up built (modules, classes, mappers) lives until exit: frozen, it is left
    # out of every later collection, the one at exit included.
    gc.freeze()
    app()


if __name__ == "__main__":
    main()
