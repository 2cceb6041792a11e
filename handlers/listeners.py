"""Every Slack listener module's register function, in the order they are registered."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.context import AppContext
from handlers import commands, home, progress, referrals, reminders, setup

Register = Callable[[App, AppContext], None]

LISTENERS: tuple[Register, ...] = (
    commands.register,
    progress.register,
    home.register,
    reminders.register,
    referrals.register,
    setup.register,
)


def register_all(app: App, ctx: AppContext) -> None:
    """Register every listener module's listeners on ``app``."""
    for register in LISTENERS:
        register(app, ctx)
