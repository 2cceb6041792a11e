"""Referral traffic kept out of logs and off slow paths: the DEBUG log guard, special clients."""

from __future__ import annotations

import logging
from typing import Any, Final

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

GUARDED_LOGGERS: Final = (
    "slack_sdk",
    "slack_bolt",
    "slack",
    "csp.bolt",
    "urllib3",
    "websocket",
    "aiohttp",
    "http.client",
)
_WITHHELD: Final = "debug output withheld (it may carry safeguarding referral data)"
_guard_installed = False


def install_log_guard() -> None:
    """Withhold DEBUG records of Slack/HTTP libraries, whatever levels are set later.

    Works through the log record factory, so it covers loggers created after
    this call and handlers added by anyone. Idempotent.
    """
    global _guard_installed  # installed once per process
    if _guard_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.levelno < logging.INFO and record.name.startswith(GUARDED_LOGGERS):
            record.msg = _WITHHELD
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return record

    logging.setLogRecordFactory(factory)
    _guard_installed = True


def _silent_logger() -> logging.Logger:
    """A logger outside the logging tree that drops everything."""
    quiet = logging.Logger("csp.referral.views", level=logging.CRITICAL + 1)
    quiet.propagate = False
    quiet.disabled = True
    quiet.addHandler(logging.NullHandler())
    return quiet


_SILENT: Final = _silent_logger()


def sensitive_client(client: WebClient) -> WebClient:
    """A copy of ``client`` for calls that carry referral contents: it never logs."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=_SILENT,
        retry_handlers=list(client.retry_handlers),
    )


def trigger_client(client: WebClient) -> WebClient:
    """A copy of ``client`` for calls bound to a trigger_id (views.open).

    A trigger_id lives 3 seconds, so waiting out a 429's Retry-After and trying again
    can only fail, and it delays the ack; the rate-limit retry handler is left out.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=client.logger,
        retry_handlers=[
            h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
    )
