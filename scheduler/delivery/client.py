"""The Slack WebClient deliveries are posted with, built from the settings, never resending.

slack_sdk's default ``ConnectionErrorRetryHandler`` sends a request again when its
answer is lost; for ``chat.postMessage`` that is a second post Slack shows and the
delivery row never records. A post without an answer is "unknown" and is settled by
the engine's metadata reconcile (``conversations.history``), so every client that
posts a delivery has no transport-level retry handlers: no connection-error resends,
and no ``RateLimitErrorRetryHandler`` either (a 429 is the outbox's, which paces its
lanes from ``Retry-After`` instead of sleeping in the calling thread).
"""

from __future__ import annotations

import copy

from slack_sdk import WebClient

from bot.settings import Settings


def delivery_client(settings: Settings) -> WebClient:
    """A WebClient with the bot token (if set) against ``SLACK_API_URL``; never resends."""
    token = settings.slack_bot_token
    return WebClient(
        token=token.get_secret_value() if token is not None else None,
        base_url=settings.slack_api_url,
        retry_handlers=[],
    )


def without_resends(client: WebClient) -> WebClient:
    """``client`` itself when it has no retry handlers, else a copy of it without them.

    The copy keeps the client's class, token, base URL, timeout and logger; the
    caller's client is left as it was.
    """
    if not client.retry_handlers:
        return client
    quiet = copy.copy(client)
    quiet.retry_handlers = []
    return quiet
