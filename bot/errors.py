"""Errors that carry a message meant for a person (CLI user or Slack member)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; ``str(exc)`` is a kind sentence saying how."""


class UsageError(UserError):
    """A command was typed wrongly; carries the right usage line."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class NotAllowed(UserError):
    """The actor's role does not permit this."""


class NotFound(UserError):
    """The thing asked for does not exist."""
