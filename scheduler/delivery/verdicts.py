"""What a Slack answer or error means for a delivery: retry after, back off, or failed for good.

* 429 (or ``ratelimited``): wait ``Retry-After`` (no attempt counted);
* 5xx, network errors and the transient error codes: back off 30 s, 1 min, 2 min, ...
  up to an hour, giving up after :data:`MAX_ATTEMPTS`; the urgent kinds (referral
  alerts and escalations, :data:`URGENT_KINDS`) back off at most a minute and are
  given up on only after :data:`URGENT_MAX_ATTEMPTS`, so they go within a sweep or two
  of Slack answering again, however long it was down;
* ``channel_not_found``, ``user_not_found`` and every other error: failed for good.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND, ESCALATION_KIND, NO_LEADS_KIND

MAX_ATTEMPTS = 30
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
# A referral waiting to reach a lead: tried every minute while Slack is down (they are
# few), for two days of minutes before it is given up on and the admins told.
URGENT_KINDS = frozenset({ALERT_KIND, ALERT_DM_KIND, NO_LEADS_KIND, ESCALATION_KIND})
URGENT_BACKOFF_MAX = dt.timedelta(minutes=1)
URGENT_MAX_ATTEMPTS = 2 * 24 * 60

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "users_not_found",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "access_denied",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "not_allowed_token_type",
    }
)
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "rate_limited" | "transient" | "permanent"
    reason: str
    retry_after: float | None = None


def classify(exc: BaseException) -> Verdict:
    """Sort a Slack or network failure into what should be done about it."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
            raw = headers.get("retry-after")
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            try:
                retry_after = float(raw) if raw is not None else 30.0
            except ValueError:
                retry_after = 30.0
            return Verdict("rate_limited", "ratelimited", max(retry_after, 1.0))
        if status >= 500 or error in TRANSIENT_ERRORS:
            return Verdict("transient", error)
        return Verdict("permanent", error)
    return Verdict("transient", type(exc).__name__)


def backoff(attempts: int, kind: str | None = None) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour, or at a minute for an urgent ``kind``
    (attempts counts failures so far)."""
    step: dt.timedelta = BACKOFF_BASE * (2 ** max(0, min(attempts - 1, 12)))
    return min(step, URGENT_BACKOFF_MAX if kind in URGENT_KINDS else BACKOFF_MAX)


def max_attempts(kind: str) -> int:
    """Failed attempts after which a delivery of ``kind`` is given up on."""
    return URGENT_MAX_ATTEMPTS if kind in URGENT_KINDS else MAX_ATTEMPTS
