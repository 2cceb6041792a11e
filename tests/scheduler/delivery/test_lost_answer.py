"""A post Slack carried out whose answer was lost: settled by reconciling, never resent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.deliveries import PlannedDelivery
from bot.plan.members import ensure_partnership
from bot.settings import Settings
from handlers.app import make_client
from scheduler.delivery.client import delivery_client
from scheduler.delivery.immediate import Sent, deliver_now
from scheduler.delivery.outbox import Outbox
from scheduler.delivery.planned_rows import insert_planned
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, DeliveryStatus
from tests.fakes.slack import FakeSlack

KEY = "test:lost-answer:1"
CHANNEL = "C0PARTNER"


def _queue(ctx: AppContext, now: dt.datetime) -> None:
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            p.id,
            [
                PlannedDelivery(
                    key=KEY,
                    kind="delivery_failed",
                    target=CHANNEL,
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
            ],
            now,
        )


def _status(ctx: AppContext) -> DeliveryStatus:
    with session_scope(ctx.sessions) as session:
        return session.scalars(select(Delivery.status).where(Delivery.key == KEY)).one()


def _shown(fake: FakeSlack) -> list[str]:
    """The delivery keys of the posts Slack shows in the channel."""
    return [
        str(m["metadata"]["event_payload"]["key"])
        for m in fake.messages(CHANNEL)
        if isinstance(m.get("metadata"), dict)
    ]


def _reconciled_once(ctx: AppContext, fake: FakeSlack, outbox: Outbox, now: dt.datetime) -> None:
    assert _status(ctx) == DeliveryStatus.IN_FLIGHT  # unknown: looked for before any resend
    assert _shown(fake) == [KEY]
    later = outbox.run(now + dt.timedelta(seconds=31))
    assert later.reconciled == 1 and later.sent == 0
    assert fake.calls_to("conversations.history")  # settled by the metadata reconcile
    assert _status(ctx) == DeliveryStatus.SENT
    assert _shown(fake) == [KEY]
    assert len(fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "factory",
    [delivery_client, make_client],
    ids=["cron-default-client", "app-and-scheduler-client"],
)
def test_outbox_post_whose_answer_is_lost_is_shown_once(
    ctx: AppContext,
    fake_slack: FakeSlack,
    clock: FixedClock,
    factory: Callable[[Settings], WebClient],
) -> None:
    now = clock.now()
    _queue(ctx, now)
    fake_slack.drop_answer_next("chat.postMessage")
    outbox = Outbox(ctx.sessions, factory(ctx.settings), clock=ctx.clock, per_channel_interval=0)
    first = outbox.run(now)
    assert first.sent == 0 and first.retried == 1
    _reconciled_once(ctx, fake_slack, outbox, now)


def test_immediate_send_whose_answer_is_lost_is_shown_once(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """The app's client, as a listener's immediate referral send uses it."""
    now = clock.now()
    _queue(ctx, now)
    fake_slack.drop_answer_next("chat.postMessage")
    client = make_client(ctx.settings)
    [outcome] = deliver_now(ctx.sessions, client, [KEY], ctx.clock)
    assert outcome.status == Sent.RETRYING
    outbox = Outbox(ctx.sessions, delivery_client(ctx.settings), clock=ctx.clock)
    _reconciled_once(ctx, fake_slack, outbox, now)


def test_sweep_with_its_default_client_does_not_resend(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    now = clock.now()
    _queue(ctx, now)
    fake_slack.drop_answer_next("chat.postMessage")
    report = run_sweep(ctx, per_channel_interval=0)
    assert report.outbox.sent == 0 and report.outbox.retried == 1
    outbox = Outbox(ctx.sessions, delivery_client(ctx.settings), clock=ctx.clock)
    _reconciled_once(ctx, fake_slack, outbox, now)


def test_engine_never_resends_whatever_client_it_is_given(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """A client built with slack_sdk's defaults (connection-error resends on)."""
    now = clock.now()
    _queue(ctx, now)
    fake_slack.drop_answer_next("chat.postMessage")
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    outbox = Outbox(ctx.sessions, client, clock=ctx.clock, per_channel_interval=0)
    assert outbox.run(now).retried == 1
    _reconciled_once(ctx, fake_slack, outbox, now)
    assert client.retry_handlers  # the caller's client is left as it was


def test_app_client_never_sleeps_out_a_429_in_a_listener(settings: Settings) -> None:
    """A 429 is the outbox's (it has Retry-After lanes); a listener thread never waits."""
    assert make_client(settings).retry_handlers == []
    assert delivery_client(settings).retry_handlers == []
