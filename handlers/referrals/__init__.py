"""Safeguarding referral listeners: the package's one entry point registers every surface.

Thin: parse, call :mod:`bot.referrals`, render with the ``bot.slack.referral_*`` builders,
reply. Refusals (:class:`bot.referrals.access.NotALead`) are caught inside the request's
unit of work so their audit records are committed. Referral contents travel only in
the lead's detail modal, which is opened through a client whose logger never prints
(slack_sdk logs request and response bodies at DEBUG);
:func:`handlers.referrals.guards.install_log_guard` withholds DEBUG records of the
Slack and HTTP libraries for the same reason.
"""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.referrals import crypto
from handlers.referrals import lead_actions, refer
from handlers.referrals.guards import install_log_guard


def register(app: App, ctx: AppContext) -> None:
    """Guard the logs, set the referral key, then add the form's and the lead's listeners."""
    install_log_guard()
    crypto.configure(ctx.settings.encryption_keys)
    refer.register(app)
    lead_actions.register(app)
