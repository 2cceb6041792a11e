"""`csp-bot run | serve | shell | start`: the Slack transports.

Slack code (the Bolt app, slack_bolt, slack_sdk), the scheduler and the referral
checks are imported inside the commands that use them, so the other CLI commands
never load them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.context import AppContext
from bot.errors import UserError
from bot.plan.members import ensure_partnership, store_local_role
from bot.plan.queries import LOCAL_USER  # who the shell acts as when CSP_ADMINS is empty
from bot.text.numbers import plural
from handlers.cli.support import cli_context, fail
from handlers.cli.sweep import start_warnings
from store.db import ping, session_scope
from store.models import Role

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from handlers.workspace import Workspace

log = logging.getLogger(__name__)


def _load_seed(ctx: AppContext) -> int:
    # Imported here: only `start` reads plan files (a cron sweep never does).
    from bot.planfiles.seed import load_seed_if_empty

    with session_scope(ctx.sessions) as session:
        session.info["clock"] = ctx.clock
        return load_seed_if_empty(session, ctx.settings, now=ctx.clock.now())


def _warn_channel(ctx: AppContext, *, log_it: bool = True) -> list[str]:
    """Log (unless the shell shows them instead) that no partnership channel is set, and
    which variables `/csp setup` has overridden (see ``start_warnings``)."""
    warnings = start_warnings(ctx)
    if log_it:
        for warning in warnings:
            log.warning("%s", warning)
    return warnings


def _warn_readiness(ctx: AppContext, *, log_them: bool = True) -> list[str]:
    """Log, one WARNING sentence each, what would stop a referral reaching a lead.

    Returns the sentences; the shell shows them instead of logging them
    (``log_them=False``), so each is said once. Never stops the start: if the check
    itself fails, that is logged and the bot starts anyway.
    """
    # Imported here: the referral workflow brings cryptography and slack_sdk's models,
    # which only the Slack transports need.
    from bot.referrals.readiness import safeguarding_readiness

    try:
        with session_scope(ctx.sessions) as session:
            session.info["clock"] = ctx.clock
            partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
            warnings = safeguarding_readiness(ctx.settings, session, partnership)
    except Exception as exc:  # a readiness check must never keep the bot from starting
        log.warning(
            "Could not check whether safeguarding referrals are set up (%s); starting anyway.",
            type(exc).__name__,
        )
        return []
    if log_them:
        for warning in warnings:
            log.warning("%s", warning)
    return warnings


def _start_scheduler(ctx: AppContext, client: WebClient) -> Any:
    try:
        # Imported here: APScheduler and the delivery engine (slack_sdk) are for the
        # transports that send reminders.
        from scheduler.jobs import start_scheduler
    except ImportError:
        log.warning("the scheduler is not available; reminders will not be sent")
        return None
    return start_scheduler(ctx, client)


def _run_socket_mode(ctx: AppContext, *, scheduler: bool) -> None:
    # slack_bolt, slack_sdk and websocket-client, for this transport only.
    from handlers.app import build_app, make_client
    from handlers.socket_mode import socket_mode_handler
    from handlers.units import warm_up

    settings = ctx.settings
    app_token = settings.slack_app_token
    missing = _missing_tokens(settings)
    if settings.slack_bot_token is None or app_token is None:
        fail(
            f"Socket Mode needs SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-...), "
            f"and {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
            "see docs/slack-setup.md, or try `csp-bot shell` without Slack."
        )
    client = make_client(settings)
    workspace = _check_slack(client, settings)
    url = _open_link(client, app_token.get_secret_value(), settings.slack_api_url)
    _warn_channel(ctx)
    _warn_readiness(ctx)
    app = build_app(ctx, client=client, workspace=workspace)
    warm_up(app)
    jobs = _start_scheduler(ctx, client) if scheduler else None
    handler = socket_mode_handler(app, app_token.get_secret_value())
    handler.client.wss_uri = url  # the link just opened: connect() uses it
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        typer.echo("csp-bot is connected to Slack (Socket Mode). Press Ctrl-C to stop.", err=True)
        if handler.wait():
            fail(
                "Slack closed the link because Socket Mode is switched off for this app "
                "(link_disabled); switch it on under Socket Mode in the app's settings and "
                "start csp-bot again, or serve HTTP with `csp-bot serve`."
            )
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        if jobs is not None:
            jobs.shutdown(wait=False)


def _missing_tokens(settings: Any) -> list[str]:
    return [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_APP_TOKEN", settings.slack_app_token),
        )
        if value is None
    ]


def _ask_slack(call: Callable[[], Any], api_url: str, rejected: str) -> Any:
    """``call`` Slack; one clear sentence and exit code 2 when Slack cannot be reached
    or answers an error (``rejected`` is the sentence, with ``{error}`` for Slack's)."""
    from slack_sdk.errors import SlackApiError  # slack_sdk, for the transports only

    sdk_log = logging.getLogger("slack_sdk.web.base_client")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # the sentence below says it once, plainly
    try:
        return call()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        fail(rejected.format(error=error or "no reason given"))
    except Exception as exc:  # connection refused, DNS, TLS, timeouts
        reason = getattr(exc, "reason", None) or exc
        fail(
            f"cannot reach Slack at {api_url} ({reason}); check the network and "
            "SLACK_API_URL, then try again."
        )
    finally:
        sdk_log.setLevel(level)


def _check_slack(client: WebClient, settings: Any) -> Workspace:
    """Ask Slack who we are (auth.test) before starting, and pin that workspace (requests
    from any other are refused); one clear sentence and exit code 2 when Slack cannot
    be reached or rejects the token."""
    from handlers.workspace import Workspace

    answer = _ask_slack(
        client.auth_test,
        settings.slack_api_url,
        "Slack rejected SLACK_BOT_TOKEN ({error}); check the token on the app's "
        "OAuth & Permissions page and that the app is installed.",
    )
    return Workspace.from_auth_test(answer.data if isinstance(answer.data, dict) else {}, settings)


def _open_link(client: WebClient, app_token: str, api_url: str) -> str:
    """Check SLACK_APP_TOKEN by asking for a Socket Mode URL (apps.connections.open),
    before anything is said; one clear sentence and exit code 2 when it is refused."""
    answer = _ask_slack(
        lambda: client.apps_connections_open(app_token=app_token),
        api_url,
        "Slack rejected SLACK_APP_TOKEN ({error}); use the app-level token (xapp-...) "
        "from the app's Basic Information page, with the connections:write scope, and "
        "check that Socket Mode is on.",
    )
    return str(answer["url"])


def _run_shell(ctx: AppContext, *, user: str | None, as_admin: bool) -> None:
    from handlers.shell.shell import Shell  # the Bolt app (slack_bolt), for the shell only

    settings = ctx.settings
    user_id = user or (settings.admins[0] if settings.admins else LOCAL_USER)
    wants_admin = as_admin or (user is None and not settings.admins)
    # The shell's user is stored with the role it acts with, so the `csp-bot` commands
    # the shell suggests (run with `--as` it) accept it. ULOCAL is nobody in Slack: sweeps
    # never message it and the last-admin guard does not count it (bot.plan.queries).
    local_admin = wants_admin and user_id not in settings.admins
    if local_admin:
        with session_scope(ctx.sessions) as session:
            session.info["clock"] = ctx.clock
            now = ctx.clock.now()
            partnership = ensure_partnership(session, settings, now=now)
            store_local_role(session, partnership, user_id, Role.ADMIN, now=now)
    shell = Shell(
        ctx,
        user_id=user_id,
        notices=_warn_readiness(ctx, log_them=False),
        warnings=_warn_channel(ctx, log_it=False),
        local_admin=local_admin,
    )
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
        """Serve Slack over HTTP: POST /slack/events (signed requests), GET /healthz, and
        the calendar feed at GET /calendar/<secret>.ics (see `csp-bot calendar url`)."""
        # slack_bolt and slack_sdk, for this transport only.
        from handlers.app import build_app, make_client
        from handlers.calendar import feed_responder
        from handlers.server import make_server, serve_forever
        from handlers.units import warm_up

        with cli_context() as ctx:
            if ctx.settings.slack_signing_secret is None:
                fail("serving HTTP needs SLACK_SIGNING_SECRET (from the app's Basic Information).")
            client = make_client(ctx.settings)
            workspace = _check_slack(client, ctx.settings)
            _warn_channel(ctx)
            _warn_readiness(ctx)
            slack_app = build_app(ctx, client=client, workspace=workspace)
            warm_up(slack_app)

            def healthy() -> bool:
                ping(ctx.engine)
                return True

            try:
                server = make_server(
                    slack_app, host=host, port=port, health=healthy, calendar=feed_responder(ctx)
                )
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
                typer.echo(f"Loaded the seed plan: {plural(loaded, 'objective')}.", err=True)
            missing = _missing_tokens(ctx.settings)
            if ctx.settings.has_slack_tokens:
                _run_socket_mode(ctx, scheduler=True)
            elif len(missing) == 1:
                fail(
                    f"{missing[0]} is not set, but the other Slack token is: set "
                    f"{missing[0]} too to run on Slack (see docs/slack-setup.md), or unset "
                    "both to use the local shell."
                )
            else:
                typer.echo(
                    "No Slack tokens set (SLACK_BOT_TOKEN, SLACK_APP_TOKEN): opening the "
                    "local shell instead.",
                    err=True,
                )
                _run_shell(ctx, user=user, as_admin=user is None)
