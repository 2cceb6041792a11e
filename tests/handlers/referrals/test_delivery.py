"""Referral notices go through the outbox's own delivery rules.

Alerts, the referrer's receipt, status messages and the assignee's message are queued
as delivery rows with the change and sent at once; what fails for good is failed
with the admins told once, and the receipt tells the truth about it. The form opens
without waiting out a rate limit (a trigger_id lives 3 seconds).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from bot.referrals import crypto
from bot.referrals.kinds import ALERT_DM_KIND, ALERT_KIND, RECEIPT_KIND, STATUS_KIND
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, DeliveryStatus
from tests.fakes.slack import FakeSlack, block_action
from tests.handlers.referrals.test_first_use import NOW, _app, refer, send


def _client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])


def _texts(fake: FakeSlack, channel: str) -> list[str]:
    return [str(m.get("text")) for m in fake.messages(channel)]


def test_every_lead_unreachable_receipt_says_phone_and_admins_hear_once(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch, safeguarding_channel=None, safeguarding_leads=["ULEAD", "ULEAD2"])
    fake_slack.fail_next("chat.postMessage", 2, error="user_not_found")
    refer(app, "UMEMBER")
    (receipt,) = _texts(fake_slack, "DUMEMBER")
    assert "could not reach any safeguarding lead" in receipt
    assert "Phone your safeguarding lead now" in receipt
    assert "retried" not in receipt
    with session_scope(ctx.sessions) as s:
        rows = s.scalars(select(Delivery).where(Delivery.kind == ALERT_DM_KIND)).all()
        assert {(r.status, r.last_error) for r in rows} == {
            (DeliveryStatus.FAILED, "user_not_found")
        }
    admin = _texts(fake_slack, "DUADMIN")
    assert len(admin) == 2  # one notice per lead who could not be reached
    assert any("<@ULEAD>" in t for t in admin) and any("<@ULEAD2>" in t for t in admin)
    # Later sweeps neither retry the alerts nor tell the admins again.
    client = _client(fake_slack)
    for minutes in (3, 10, 60):
        run_sweep(ctx, now=NOW + dt.timedelta(minutes=minutes), client=client)
    notices = [t for t in _texts(fake_slack, "DUADMIN") if "could not be sent" in t]
    assert len(notices) == 2
    posted = [
        ((c.args.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        for c in fake_slack.calls_to("chat.postMessage", ok=True)
    ]
    assert not [k for k in posted if k.startswith("refalertdm:")]  # failed for good: no retry
    assert len(_texts(fake_slack, "DUMEMBER")) == 1


def test_one_lead_reached_receipt_says_alerted(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch, safeguarding_channel=None, safeguarding_leads=["ULEAD", "ULEAD2"])
    fake_slack.fail_next("chat.postMessage", 1, error="user_not_found")
    refer(app, "UMEMBER")
    (receipt,) = _texts(fake_slack, "DUMEMBER")
    assert "alerted by direct message" in receipt


def test_status_and_assignment_notices_are_queued_rows_sent_at_once(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    refer(app, "UMEMBER")
    send(app, block_action(Ids.REFERRAL_ACK, "SG-2026-0001", user_id="ULEAD", channel_id="C0X"))
    with session_scope(ctx.sessions) as s:
        rows = s.scalars(
            select(Delivery).where(Delivery.referral_id.is_not(None)).order_by(Delivery.id)
        ).all()
        kinds = Counter((r.kind, r.status) for r in rows)
        payloads = [r.payload for r in rows if r.kind == STATUS_KIND]
    assert kinds[(RECEIPT_KIND, DeliveryStatus.SENT)] == 1
    assert kinds[(STATUS_KIND, DeliveryStatus.SENT)] == 1
    # Only the reference, labels and who acted: never what the referral says.
    assert set(payloads[0]) == {"reference", "category", "urgency", "group", "event", "by"} | {
        "assignee"
    }
    texts = _texts(fake_slack, "DUMEMBER")
    assert any("has been acknowledged by <@ULEAD>" in t for t in texts)


def test_a_status_message_lost_to_a_crash_is_sent_by_the_outbox(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    refer(app, "UMEMBER")
    crypto.configure(ctx.settings.encryption_keys)
    from scheduler.delivery import immediate as delivery_engine

    def died(*args: object, **kwargs: object) -> list[delivery_engine.Outcome]:
        return []  # the process died after its commit, before sending anything

    monkeypatch.setattr("handlers.referrals.sending.deliver_now", died)
    send(app, block_action(Ids.REFERRAL_ACK, "SG-2026-0001", user_id="ULEAD", channel_id="C0X"))
    assert not any("acknowledged" in t for t in _texts(fake_slack, "DUMEMBER"))
    report = run_sweep(ctx, now=NOW + dt.timedelta(minutes=3), client=_client(fake_slack))
    assert any(k.startswith("refstatus:") for k in report.outbox.sent_keys)
    assert sum("acknowledged" in t for t in _texts(fake_slack, "DUMEMBER")) == 1


def test_referral_form_does_not_wait_out_a_rate_limit(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    from handlers.referrals.refer import open_referral_form

    crypto.configure(ctx.settings.encryption_keys)
    client = WebClient(
        token="xoxb-test",
        base_url=fake_slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.fail_next("views.open", status=429, retry_after=3)
    started = time.monotonic()
    with pytest.raises(SlackApiError):
        open_referral_form(client, "T0TRIGGER")
    assert time.monotonic() - started < 1.0
    assert len(fake_slack.calls_to("views.open")) == 1


def test_a_channel_alert_the_outbox_fails_for_good_reaches_each_lead_once(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(
        ctx,
        monkeypatch,
        safeguarding_channel="C0SAFEGUARD",
        safeguarding_leads=["ULEAD", "ULEAD2"],
    )
    fake_slack.fail_next("chat.postMessage", 1, status=500)  # left to the outbox
    refer(app, "UMEMBER")
    assert _texts(fake_slack, "C0SAFEGUARD") == []
    client = _client(fake_slack)
    # The outbox tries the channel later; Slack now says the bot is not in it.
    fake_slack.fail_next("chat.postMessage", 1, error="not_in_channel")
    for minutes in (3, 4, 5, 10, 60):
        run_sweep(ctx, now=NOW + dt.timedelta(minutes=minutes), client=client)
    for lead in ("ULEAD", "ULEAD2"):
        texts = _texts(fake_slack, f"D{lead}")
        alerts = [t for t in texts if t.startswith("Safeguarding referral SG-2026-0001:")]
        assert len(alerts) == 1, alerts  # each lead alerted by DM exactly once
    with session_scope(ctx.sessions) as s:
        channel_row = s.scalars(select(Delivery).where(Delivery.kind == ALERT_KIND)).one()
        assert channel_row.status == DeliveryStatus.FAILED
        assert channel_row.last_error == "not_in_channel"
