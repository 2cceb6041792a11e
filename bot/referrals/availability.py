"""Whether this process may touch referrals: off when referrals are stored but no key is set.

Without ``CSP_ENCRYPTION_KEY`` the bot still runs the plan, reminders and digest; it
takes no new referrals and leaves stored ones alone (no escalations, alerts or
retention on them) until the key is set. The entry point says which
(:func:`bot.context.build_context`); this module imports nothing heavy, so a cron sweep
can ask it without loading cryptography.
"""

from __future__ import annotations

_state = {"key_set": True, "locked": 0}


def set_key(present: bool) -> None:
    """Record whether CSP_ENCRYPTION_KEY is set in this process."""
    _state["key_set"] = present


def lock(stored: int) -> None:
    """Stored referrals exist and cannot be read: leave them alone."""
    _state["locked"] = stored


def referrals_available() -> bool:
    """Whether referral work (escalations, retention, the form) may run."""
    return bool(_state["key_set"])


def locked_referrals() -> int:
    """How many stored referrals are waiting for the key (0: none, or the key is set)."""
    return 0 if _state["key_set"] else int(_state["locked"])


UNAVAILABLE = (
    "Safeguarding referrals are unavailable until an admin sets CSP_ENCRYPTION_KEY "
    "(the key they were encrypted with)."
)
