"""No referral listener holds the SQLite write lock while it talks to Slack.

The app runs listeners on worker threads (``process_before_response=False``, as
`csp-bot serve` does). If one listener kept its write transaction open across a
slow Slack call (here a 429 waited out with Retry-After), a second request's audit
append would wait out the busy timeout and fail with "database is locked". The
busy timeout is cut to a quarter of a second so the failure shows in seconds, not
in 30-second waits; each round makes the second request arrive while the first is
certainly inside its Slack call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select

import handlers.listeners
import handlers.referrals
from bot.context import AppContext
from bot.ids import Ids
from bot.referrals import audit
from store.db import make_engine, make_session_factory, session_scope
from store.models import AuditRecord, Referral
from tests.dbutil import on_postgres
from tests.fakes.slack import FakeSlack, block_action, signed_request, view_submission
from tests.handlers.referrals.test_leaks import good_values

BUSY_TIMEOUT = 0.25
pytestmark = pytest.mark.skipif(on_postgres(), reason="about SQLite's single write lock")
ROUNDS = 3


@pytest.fixture
def short_ctx(ctx: AppContext) -> Iterator[AppContext]:
    """``ctx`` over the same file, with a busy timeout far shorter than Slack's delay."""
    engine = make_engine(
        ctx.settings.database_url,
        connect_args={"timeout": BUSY_TIMEOUT, "check_same_thread": False},
    )
    try:
        yield AppContext(ctx.settings, engine, make_session_factory(engine), ctx.clock)
    finally:
        engine.dispose()


@pytest.fixture
def threaded_app(short_ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(short_ctx, process_before_response=False)


def send(app: App, body: dict[str, str]) -> int:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status


def _audit_actions(ctx: AppContext) -> list[str]:
    with session_scope(ctx.sessions) as s:
        return list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def _alerts_posted(ctx: AppContext) -> int:
    """How many referrals have their channel alert recorded as posted."""
    with session_scope(ctx.sessions) as s:
        return len(s.scalars(select(Referral.id).where(Referral.alert_ts.is_not(None))).all())


def _wait_until(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the listeners did not finish in time"
        time.sleep(0.02)


def test_slow_slack_call_does_not_hold_the_write_lock(
    threaded_app: App,
    short_ctx: AppContext,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    for n in range(ROUNDS):
        assert (
            send(
                threaded_app,
                view_submission(
                    Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER", view_id=f"VLOCK{n}"
                ),
            )
            == 200
        )
        reference = f"SG-2026-{n + 1:04d}"
        fake_slack.wait_for("chat.postMessage", 2 * (n + 1), ok=True)
        _wait_until(lambda n=n: _audit_actions(short_ctx).count("create") == n + 1)
        _wait_until(lambda n=n: _alerts_posted(short_ctx) == n + 1)

        # The lead acknowledges; Slack rate-limits the alert update once, so the
        # listener waits about a second inside chat.update.
        updates_before = len(fake_slack.calls_to("chat.update"))
        fake_slack.fail_next("chat.update", status=429, retry_after=1)
        assert (
            send(
                threaded_app,
                block_action(
                    Ids.REFERRAL_ACK, reference, user_id="ULEAD", channel_id="C0SAFEGUARD"
                ),
            )
            == 200
        )
        fake_slack.wait_for("chat.update", updates_before + 1, timeout=20)  # the 429: waiting

        # Meanwhile a member presses View and another lead's Acknowledge arrives:
        # both need the write lock for their audit records.
        assert (
            send(
                threaded_app,
                block_action(Ids.REFERRAL_VIEW, reference, user_id="UMEMBER", channel_id="C0SAFE"),
            )
            == 200
        )
        _wait_until(lambda n=n: _audit_actions(short_ctx).count("denied_view") == n + 1)
        fake_slack.wait_for("chat.update", n + 1, ok=True, timeout=20)

    elapsed = time.monotonic() - started
    assert elapsed < 30, elapsed
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    actions = _audit_actions(short_ctx)
    assert actions.count("acknowledge") == ROUNDS
    assert actions.count("denied_view") == ROUNDS
    with session_scope(short_ctx.sessions) as s:
        assert audit.verify_chain(s).ok
        acknowledged = s.scalars(select(Referral.acknowledged_by)).all()
    assert acknowledged == ["ULEAD"] * ROUNDS
    # Each round: the member's refusal and the lead's confirmation (sent last).
    fake_slack.wait_for("chat.postEphemeral", 2 * ROUNDS, ok=True, timeout=20)
    ephemerals = fake_slack.calls_to("chat.postEphemeral")
    refusals = [c for c in ephemerals if c.args["user"] == "UMEMBER"]
    assert len(refusals) == ROUNDS
    confirmations = [c for c in ephemerals if c.args["user"] == "ULEAD"]
    assert len(confirmations) == ROUNDS
    assert all("You acknowledged" in c.args["text"] for c in confirmations)
    assert all("not a safeguarding lead" in json.dumps(c.args) for c in refusals)
