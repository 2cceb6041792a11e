"""`csp-bot` command line: the composition root.

Command groups live in their own modules and register themselves here
(`EXTENSIONS`); each exposes ``register(app: typer.Typer) -> None``. Modules that
reach the Slack transports or the scheduler are imported lazily inside their
commands, so the core stays free of slack_bolt.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from bot.context import AppContext, build_context
from bot.errors import UserError
from bot.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    name="csp-bot",
    help="Run the statutory calendar of a Community Safety Partnership from Slack.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that add commands: each has register(app).
EXTENSIONS = [
    "bot.cli_plan",
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear sentence to stderr and stop, with no traceback."""
    typer.echo(f"csp-bot: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        fail(str(exc))


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@contextmanager
def cli_context(*, migrate: bool = True) -> Iterator[AppContext]:
    """Settings + database for one command; user errors become one line on stderr."""
    settings = settings_or_exit()
    configure_logging(settings)
    try:
        ctx = build_context(settings, migrate=migrate)
    except Exception as exc:  # connection refused, unwritable file...
        fail(f"cannot open the database at DATABASE_URL: {type(exc).__name__}: {exc}")
    try:
        yield ctx
    except UserError as exc:
        fail(str(exc), code=1)
    finally:
        ctx.engine.dispose()


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (other commands do this automatically)."""
    with cli_context(migrate=True) as ctx:
        typer.echo(f"Database is up to date: {ctx.engine.url.render_as_string(hide_password=True)}")


def _register_extensions() -> None:
    for name in EXTENSIONS:
        module = importlib.import_module(name)
        module.register(app)


_register_extensions()


def main() -> None:
    app()
