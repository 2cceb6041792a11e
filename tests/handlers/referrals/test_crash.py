"""A process that dies between Slack's "ok" for a referral alert and our commit of it
as sent: the alert's row was claimed (in flight, under a lease) and committed before
the post, so a later sweep finds the post by its metadata key in conversations.history
and records it, instead of posting the alert a second time. Channel and DM alerts."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import select

from bot.context import AppContext
from bot.deliveries import METADATA_EVENT_TYPE
from bot.ids import Ids
from bot.plan.members import ensure_partnership
from bot.referrals.alerts import alert_location
from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND
from bot.slack import referral_alerts
from scheduler.delivery import immediate as delivery_engine
from scheduler.delivery.records import LEASE
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, DeliveryStatus
from tests.fakes.slack import FakeSlack, view_submission
from tests.handlers.referrals.test_first_use import _app, send
from tests.handlers.referrals.test_leaks import good_values

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs or commits."""


def _client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])


def _submit(app: App) -> None:
    body = view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER")
    with contextlib.suppress(Crash):  # the listener died; Bolt may or may not pass it on
        send(app, body)


def _alerts_in(fake: FakeSlack, channel: str, prefix: str) -> Counter[str]:
    """Alert keys among the messages ``channel`` holds at the fake Slack."""
    keys: Counter[str] = Counter()
    for message in fake.messages(channel):
        meta: dict[str, Any] = message.get("metadata") or {}
        key = (meta.get("event_payload") or {}).get("key", "")
        if meta.get("event_type") == METADATA_EVENT_TYPE and key.startswith(prefix):
            keys[key] += 1
    return keys


def _rows(ctx: AppContext, kind: str) -> list[Delivery]:
    with session_scope(ctx.sessions) as s:
        return list(s.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)))


def _crash_after_post(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the "record it as sent" step die (Slack has already said ok)."""

    def die(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(delivery_engine, "record_sent", die)


def test_channel_alert_crash_after_post_is_reconciled_not_reposted(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    _crash_after_post(monkeypatch)
    _submit(app)
    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})
    (row,) = _rows(ctx, ALERT_KIND)
    # Claimed and committed before the post; the crash left it in flight under its lease.
    assert row.status == DeliveryStatus.IN_FLIGHT and row.attempts == 1
    assert row.claimed_until == NOW + LEASE
    monkeypatch.undo()

    client = _client(fake_slack)
    # Past the old 2-minute grace, inside the lease: nobody touches the row.
    early = run_sweep(ctx, now=NOW + dt.timedelta(minutes=3), client=client).outbox
    # Only the referrer's receipt, queued with the referral, goes: the crash did not lose it.
    assert early.sent_keys == ["refreceipt:1"] and early.reconciled == 0
    # Past the lease: the outbox looks in the channel's history and records the post.
    late = run_sweep(ctx, now=NOW + dt.timedelta(minutes=10), client=client).outbox
    assert late.reconciled == 1 and late.sent == 0
    assert fake_slack.calls_to("conversations.history")
    run_sweep(ctx, now=NOW + dt.timedelta(minutes=20), client=client)

    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})
    (row,) = _rows(ctx, ALERT_KIND)
    (message,) = fake_slack.messages("C0SAFEGUARD")
    assert row.status == DeliveryStatus.SENT and row.slack_ts == message["ts"]
    # The alert stays findable (for refreshing it after Acknowledge and the like).
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        assert alert_location(s, p, "SG-2026-0001") == ("C0SAFEGUARD", message["ts"])


def test_dm_alert_crash_after_first_post_sends_each_lead_exactly_one(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch, safeguarding_channel=None, safeguarding_leads=["ULEAD", "ULEAD2"])
    _crash_after_post(monkeypatch)
    _submit(app)
    # The first lead's alert reached Slack, the second was never posted; both rows were
    # claimed in one commit before either post.
    assert _alerts_in(fake_slack, "DULEAD", "refalertdm:") == Counter({"refalertdm:1:ULEAD": 1})
    assert not _alerts_in(fake_slack, "DULEAD2", "refalertdm:")
    rows = _rows(ctx, ALERT_DM_KIND)
    assert [r.status for r in rows] == [DeliveryStatus.IN_FLIGHT] * 2
    monkeypatch.undo()

    client = _client(fake_slack)
    early = run_sweep(ctx, now=NOW + dt.timedelta(minutes=3), client=client).outbox
    # Only the referrer's receipt, queued with the referral, goes: the crash did not lose it.
    assert early.sent_keys == ["refreceipt:1"] and early.reconciled == 0
    late = run_sweep(ctx, now=NOW + dt.timedelta(minutes=10), client=client).outbox
    assert late.reconciled == 1 and late.sent == 1
    history = {c.args["channel"] for c in fake_slack.calls_to("conversations.history")}
    assert {"DULEAD", "DULEAD2"} <= history
    run_sweep(ctx, now=NOW + dt.timedelta(minutes=20), client=client)

    for lead in ("ULEAD", "ULEAD2"):
        found = _alerts_in(fake_slack, "D" + lead, "refalertdm:")
        assert found == Counter({f"refalertdm:1:{lead}": 1}), (lead, found)
        assert not fake_slack.messages(lead)  # never a second copy outside the DM channel
    assert {r.status for r in _rows(ctx, ALERT_DM_KIND)} == {DeliveryStatus.SENT}


def test_crash_between_claim_and_post_is_posted_once_by_the_outbox(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)

    def die(*args: object, **kwargs: object) -> str:
        raise Crash

    monkeypatch.setattr(referral_alerts, "alert_text", die)  # dies before the post
    _submit(app)
    assert not fake_slack.messages("C0SAFEGUARD")
    (row,) = _rows(ctx, ALERT_KIND)
    assert row.status == DeliveryStatus.IN_FLIGHT
    monkeypatch.undo()

    client = _client(fake_slack)
    early = run_sweep(ctx, now=NOW + dt.timedelta(minutes=3), client=client).outbox
    assert early.sent_keys == ["refreceipt:1"]  # the receipt, never the alert in flight
    (receipt,) = fake_slack.messages("DUMEMBER")
    assert "has not gone through yet" in receipt["text"]
    late = run_sweep(ctx, now=NOW + dt.timedelta(minutes=10), client=client).outbox
    assert late.sent == 1 and late.reconciled == 0
    run_sweep(ctx, now=NOW + dt.timedelta(minutes=20), client=client)
    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})


def test_a_clean_alert_is_recorded_sent_with_one_attempt(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    _submit(app)
    (row,) = _rows(ctx, ALERT_KIND)
    assert row.status == DeliveryStatus.SENT and row.attempts == 1 and row.claimed_until is None
    run_sweep(ctx, now=NOW + dt.timedelta(minutes=10), client=_client(fake_slack))
    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})


def test_a_slack_error_gives_the_alert_back_to_the_outbox(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    fake_slack.fail_next("chat.postMessage", status=500)
    _submit(app)
    (row,) = _rows(ctx, ALERT_KIND)
    # Slack answered with an error, so nothing was posted: pending again, due soon.
    assert row.status == DeliveryStatus.PENDING and row.claimed_until is None
    assert row.next_attempt_at <= NOW + dt.timedelta(minutes=1)
    run_sweep(ctx, now=NOW + dt.timedelta(minutes=1), client=_client(fake_slack))
    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})


def test_a_lost_answer_is_looked_for_before_any_resend(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    real_post = WebClient.chat_postMessage

    def post_then_lose_the_answer(self: WebClient, **kwargs: Any) -> Any:
        real_post(self, **kwargs)  # Slack posts it...
        raise TimeoutError("the answer never came")  # ...but we never hear back

    monkeypatch.setattr(WebClient, "chat_postMessage", post_then_lose_the_answer)
    _submit(app)
    monkeypatch.undo()
    (row,) = _rows(ctx, ALERT_KIND)
    # It may have been posted: still in flight, to be looked for after a short wait.
    assert row.status == DeliveryStatus.IN_FLIGHT and row.last_error == "TimeoutError"
    assert row.claimed_until is not None and row.claimed_until < NOW + LEASE
    late = run_sweep(ctx, now=NOW + dt.timedelta(minutes=1), client=_client(fake_slack)).outbox
    # The alert and the receipt both got no answer: both found in Slack, neither resent.
    assert late.reconciled == 2 and late.sent == 0
    assert _alerts_in(fake_slack, "C0SAFEGUARD", "refalert:") == Counter({"refalert:1": 1})
