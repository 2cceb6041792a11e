"""The Slack WebClient deliveries are posted with, built from the settings."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.settings import Settings


def delivery_client(settings: Settings) -> WebClient:
    """A WebClient with the bot token (if set) against ``SLACK_API_URL``."""
    token = settings.slack_bot_token
    return WebClient(
        token=token.get_secret_value() if token is not None else None,
        base_url=settings.slack_api_url,
    )
