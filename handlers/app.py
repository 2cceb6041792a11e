"""The Bolt app factory: its Web API client, its unit of work and error handler, its listeners.

No App exists at import time: :func:`build_app` makes one for a context.
"""

from __future__ import annotations

import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import AppContext
from bot.notices.registry import check_registry
from bot.settings import Settings
from handlers import listeners
from handlers.announce import install_announcer
from handlers.errors import install_error_handler
from handlers.inline import CspApp
from handlers.units import install_units
from handlers.workspace import Workspace, install_workspace_guard

LISTENER_THREADS = 32

_SIGNING_SECRETS: weakref.WeakKeyDictionary[App, str] = weakref.WeakKeyDictionary()


def signing_secret_of(app: App) -> str:
    """The signing secret ``app`` checks requests with ("" when it has none), so a
    transport can check a signature before handing Bolt anything to parse."""
    return _SIGNING_SECRETS.get(app, "")


def make_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A Web API client for SLACK_API_URL that never resends at the transport level.

    It serves the listeners (and their immediate delivery sends) and the scheduler, so
    it has no retry handlers: a post whose answer was lost is settled by the delivery
    engine's reconcile, never sent again blind, and a 429 is never slept out in a
    listener thread (the outbox paces from ``Retry-After``).
    """
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    return WebClient(base_url=settings.slack_api_url, token=token, timeout=10, retry_handlers=[])


class _QuietTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when it is given
    a client; the client carries that same token, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("csp.bolt")
    if not any(isinstance(f, _QuietTokenWarning) for f in logger.filters):
        logger.addFilter(_QuietTokenWarning())
    return logger


def build_app(
    ctx: AppContext,
    *,
    client: WebClient | None = None,
    process_before_response: bool = False,
    signing_secret: str | None = None,
    verify_token: bool = False,
    workspace: Workspace | None = None,
) -> App:
    """A Bolt app for ``ctx`` with every listener module registered.

    ``client`` defaults to :func:`make_client`. ``signing_secret`` defaults to
    SLACK_SIGNING_SECRET. ``verify_token`` calls auth.test at start (Socket Mode).
    ``workspace`` is the team, enterprise and app pinned from auth.test at start-up;
    requests naming any other are refused (without it, the workspace of Bolt's own
    auth.test on the first request is the one answered).
    """
    check_registry()  # a delivery kind without a renderer stops start-up
    settings = ctx.settings
    client = client or make_client(settings)
    if signing_secret is None and settings.slack_signing_secret is not None:
        signing_secret = settings.slack_signing_secret.get_secret_value()
    app = CspApp(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=True,
        token_verification_enabled=verify_token,
        process_before_response=process_before_response,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="csp-listener"
        ),
        logger=_bolt_logger(),
    )
    _SIGNING_SECRETS[app] = signing_secret or ""
    install_workspace_guard(app, workspace)  # first: a stranger's request costs no database work
    install_units(app, ctx)
    install_error_handler(app, client)
    listeners.register_all(app, ctx)
    install_announcer(ctx, client)  # channel updates are posted by its thread, not listeners
    return app
