"""Slack listeners. Each module in HANDLER_MODULES exposes ``register(app, ctx)``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import AppContext

HANDLER_MODULES = [
    "handlers.commands",
    "handlers.progress",
    "handlers.home",
    "handlers.reminders",
    "handlers.referrals",
]


def register_all(app: App, ctx: AppContext) -> None:
    """Register every handler module's listeners on ``app``."""
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(app, ctx)
