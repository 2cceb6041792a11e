"""Helpers every `csp-bot` command uses: settings, logging, database, clean errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from bot.context import AppContext, build_context
from bot.errors import UserError
from bot.settings import ConfigError, Settings, load_settings


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
    # Migration chatter is not news to an operator unless something goes wrong.
    logging.getLogger("alembic").setLevel(
        max(logging.WARNING, logging.getLevelName(settings.log_level))
    )


@contextmanager
def cli_context(*, migrate: bool = True, referral_key: bool = True) -> Iterator[AppContext]:
    """Settings + database for one command; user errors become one line on stderr."""
    settings = settings_or_exit()
    configure_logging(settings)
    try:
        ctx = build_context(settings, migrate=migrate, check_referral_key=referral_key)
    except ConfigError as exc:
        fail(str(exc))
    except Exception as exc:  # connection refused, unwritable file...
        fail(f"cannot open the database at DATABASE_URL: {_database_problem(exc)}")
    try:
        yield ctx
    except UserError as exc:
        fail(str(exc), code=1)
    finally:
        ctx.engine.dispose()


def _database_problem(exc: Exception) -> str:
    """The driver's own words, without SQLAlchemy's links, plus what to check."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).split("\n")[0].strip() or type(cause).__name__
    if "unable to open database file" in text:
        return f"{text}. Check that the folder in the path exists and can be written."
    return f"{text}. Check the address, the server and the credentials."
