"""`csp-bot` command line: the composition root.

Command groups live in their own modules and register themselves here
(`EXTENSIONS`); each exposes ``register(app: typer.Typer) -> None``. Modules that
reach the Slack transports or the scheduler are imported lazily inside their
commands, so the core stays free of slack_bolt.
"""

from __future__ import annotations

import importlib

import typer

from handlers.cli.support import cli_context

app = typer.Typer(
    name="csp-bot",
    help="Run the statutory calendar of a Community Safety Partnership from Slack.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Modules that add commands: each has register(app).
EXTENSIONS = [
    "handlers.cli.plan",
    "handlers.cli.referrals",
    "handlers.cli.sweep",
    "handlers.cli.slack",
]


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (other commands do this automatically)."""
    with cli_context(migrate=True, referral_key=False) as ctx:
        typer.echo(f"Database is up to date: {ctx.engine.url.render_as_string(hide_password=True)}")


def _register_extensions() -> None:
    for name in EXTENSIONS:
        module = importlib.import_module(name)
        module.register(app)


_register_extensions()


def main() -> None:
    app()
