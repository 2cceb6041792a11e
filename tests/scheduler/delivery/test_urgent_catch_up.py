"""After a long Slack outage, referral alerts and escalations go within a minute or two
of Slack answering again, not after the hour-long back-off of ordinary reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.deliveries import PlannedDelivery
from bot.plan.members import Actor, ensure_partnership
from bot.referrals import crypto
from bot.referrals.form import ReferralForm
from bot.referrals.records import create_referral
from scheduler.delivery.outbox import Outbox
from scheduler.delivery.planned_rows import insert_planned
from store.db import session_scope
from store.models import Delivery, DeliveryStatus, Role
from tests.fakes.slack import FakeSlack

MINUTE = dt.timedelta(minutes=1)


def _raise_referral(ctx: AppContext) -> None:
    crypto.configure(ctx.settings.encryption_keys)
    form = ReferralForm.model_validate(
        {
            "subject_group": "child",
            "category": "neglect",
            "urgency": "immediate",
            "subject_name": "N",
            "what_happened": "W",
            "how_known": "H",
            "referrer_role": "R",
            "referrer_agency": "A",
            "referrer_contact": "C",
            "consent": "given",
        }
    )
    now = ctx.clock.now()
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=now)
        create_referral(
            session,
            partnership,
            Actor("UMEMBER", Role.MEMBER, None),
            form,
            submission_key="outage",
            now=now,
        )


def _alert(ctx: AppContext) -> Delivery:
    with session_scope(ctx.sessions) as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == "referral_alert")).one()
        session.expunge(row)
        return row


@pytest.mark.parametrize("outage_minutes", [30, 120, 600])
def test_an_urgent_alert_goes_within_two_minutes_of_slack_healing(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock, outage_minutes: int
) -> None:
    _raise_referral(ctx)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    outbox = Outbox(ctx.sessions, client, clock=clock, per_channel_interval=0)
    fake_slack.fail_for("chat.postMessage", 3600, status=500)
    for _ in range(outage_minutes):  # a sweep every minute through the outage
        outbox.run()
        clock.advance(MINUTE)
    row = _alert(ctx)
    assert row.status == DeliveryStatus.PENDING, row.last_error  # not given up on
    assert row.attempts > 0
    fake_slack.clear_failures()  # Slack answers again
    for _ in range(2):  # at once, and a minute later
        outbox.run()
        if _alert(ctx).status == DeliveryStatus.SENT:
            break
        clock.advance(MINUTE)
    else:
        row = _alert(ctx)
        pytest.fail(
            f"the alert was still {row.status} 2 minutes after Slack healed "
            f"(next try {row.next_attempt_at}, {row.attempts} attempts)"
        )
    assert len(fake_slack.calls_to("chat.postMessage", ok=True)) == 1


def test_a_post_that_goes_through_sends_the_waiting_alerts_in_the_same_sweep(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    _raise_referral(ctx)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    outbox = Outbox(ctx.sessions, client, clock=clock, per_channel_interval=0)
    fake_slack.fail_for("chat.postMessage", 3600, status=500)
    for _ in range(20):
        outbox.run()
        clock.advance(MINUTE)
    outbox.run()  # fails: the alert's next try is a minute away
    waiting = _alert(ctx)
    assert waiting.status == DeliveryStatus.PENDING and waiting.attempts > 0
    clock.advance(dt.timedelta(seconds=5))
    fake_slack.clear_failures()
    now = clock.now()
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            partnership.id,
            [
                PlannedDelivery(
                    key="test:after-outage",
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
            ],
            now,
        )
    outbox.run()  # the other post goes through: Slack is back, so the alert goes too
    assert _alert(ctx).status == DeliveryStatus.SENT


def test_a_scheduled_escalation_is_not_hurried(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    from scheduler.delivery.records import hurry
    from scheduler.delivery.verdicts import URGENT_KINDS

    now = clock.now()
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            partnership.id,
            [
                PlannedDelivery(
                    key="test:later",
                    kind="referral_escalation",
                    target="ULEAD",
                    occurrence=now + dt.timedelta(hours=2),
                )
            ],
            now,
        )
    assert hurry(ctx.sessions, URGENT_KINDS, now) == 0  # never tried: its time stands


def test_only_the_urgent_kinds_skip_the_long_back_off() -> None:
    from scheduler.delivery.verdicts import BACKOFF_MAX, MAX_ATTEMPTS, backoff, max_attempts

    assert backoff(12, "deadline") == BACKOFF_MAX == backoff(12)
    assert max_attempts("digest") == MAX_ATTEMPTS
    for kind in ("referral_alert", "referral_alert_dm", "referral_no_leads", "referral_escalation"):
        assert backoff(1, kind) == dt.timedelta(seconds=30)
        assert backoff(12, kind) == MINUTE
        assert max_attempts(kind) >= 24 * 60  # a day of sweeps a minute apart
