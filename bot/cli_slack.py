"""`csp-bot run | serve | shell | start`: the Slack transports.

Slack code (handlers/, slack_bolt) is imported inside the commands, so the core
and the other CLI commands never load it.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli_support import cli_context, fail
from bot.context import AppContext
from bot.errors import UserError
from store.db import session_scope

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)


def _load_seed(ctx: AppContext) -> int:
    from bot.planio import load_seed_if_empty

    with session_scope(ctx.sessions) as session:
        session.info["clock"] = ctx.clock
        return load_seed_if_empty(session, ctx.settings, now=ctx.clock.now())


def _start_scheduler(ctx: AppContext, client: WebClient) -> Any:
    try:
        from scheduler.jobs import start_scheduler
    except ImportError:
        log.warning("the scheduler is not available; reminders will not be sent")
        return None
    return start_scheduler(ctx, client)


def _run_socket_mode(ctx: AppContext, *, scheduler: bool) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from handlers.app import build_app, make_client

    settings = ctx.settings
    app_token = settings.slack_app_token
    if settings.slack_bot_token is None or app_token is None:
        fail(
            "Socket Mode needs SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-...); "
            "see docs/slack-setup.md, or try `csp-bot shell` without Slack."
        )
    client = make_client(settings)
    app = build_app(ctx, client=client, verify_token=True)
    jobs = _start_scheduler(ctx, client) if scheduler else None
    handler = SocketModeHandler(app, app_token.get_secret_value())
    typer.echo("csp-bot is connected to Slack (Socket Mode). Press Ctrl-C to stop.", err=True)
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)


def _run_shell(ctx: AppContext, *, user: str | None, as_admin: bool) -> None:
    from handlers.shell import Shell

    settings = ctx.settings
    user_id = user or (settings.admins[0] if settings.admins else "ULOCAL")
    wants_admin = as_admin or (user is None and not settings.admins)
    if wants_admin and user_id not in settings.admins:
        settings = settings.model_copy(update={"admins": [*settings.admins, user_id]})
        ctx = AppContext(settings, ctx.engine, ctx.sessions, ctx.clock)
    shell = Shell(ctx, user_id=user_id)
    shell.run(sys.stdin, sys.stdout, interactive=sys.stdin.isatty())


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        scheduler: Annotated[
            bool, typer.Option(help="Also send reminders and digests from this process.")
        ] = True,
    ) -> None:
        """Connect to Slack over Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)."""
        with cli_context() as ctx:
            _run_socket_mode(ctx, scheduler=scheduler)

    @app.command("serve")
    def serve(
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
        host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",  # noqa: S104
        scheduler: Annotated[
            bool, typer.Option(help="Also send reminders and digests from this process.")
        ] = True,
    ) -> None:
        """Serve Slack over HTTP: POST /slack/events (signed requests) and GET /healthz."""
        from sqlalchemy import text

        from handlers.app import build_app, make_client
        from handlers.server import make_server, serve_forever

        with cli_context() as ctx:
            if ctx.settings.slack_signing_secret is None:
                fail("serving HTTP needs SLACK_SIGNING_SECRET (from the app's Basic Information).")
            client = make_client(ctx.settings)
            slack_app = build_app(ctx, client=client)

            def healthy() -> bool:
                with ctx.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return True

            try:
                server = make_server(slack_app, host=host, port=port, health=healthy)
            except OSError as exc:
                fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
            jobs = _start_scheduler(ctx, client) if scheduler else None
            typer.echo(
                f"csp-bot is listening on {server.url}/slack/events (health: /healthz).",
                err=True,
            )
            try:
                serve_forever(server)
            finally:
                if jobs is not None:
                    jobs.shutdown(wait=False)

    @app.command("shell")
    def shell(
        user: Annotated[
            str | None, typer.Option(help="Slack user ID to act as (default: the first admin).")
        ] = None,
        as_admin: Annotated[bool, typer.Option("--as-admin", help="Act as an admin.")] = False,
    ) -> None:
        """Try the bot with no Slack: type `/csp ...` lines, see what Slack would show."""
        with cli_context() as ctx:
            _run_shell(ctx, user=user, as_admin=as_admin)

    @app.command("start")
    def start(
        user: Annotated[
            str | None, typer.Option(help="Shell only: Slack user ID to act as.")
        ] = None,
    ) -> None:
        """Load the seed plan if the database is empty, then run on Slack (Socket Mode)
        when SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set, or else open the shell."""
        with cli_context() as ctx:
            try:
                loaded = _load_seed(ctx)
            except UserError as exc:
                fail(str(exc), code=1)
            if loaded:
                typer.echo(f"Loaded the seed plan: {loaded} objectives.", err=True)
            if ctx.settings.has_slack_tokens:
                _run_socket_mode(ctx, scheduler=True)
            else:
                typer.echo(
                    "No Slack tokens set (SLACK_BOT_TOKEN, SLACK_APP_TOKEN): opening the "
                    "local shell instead.",
                    err=True,
                )
                _run_shell(ctx, user=user, as_admin=user is None)
