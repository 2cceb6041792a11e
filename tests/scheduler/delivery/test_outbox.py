"""The outbox against the fake Slack: exactly once through 429s, 5xx and bad channels."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.deliveries import METADATA_EVENT_TYPE, PlannedDelivery
from bot.plan.members import ensure_partnership
from scheduler.delivery.outbox import Outbox
from scheduler.delivery.planned_rows import insert_planned
from scheduler.delivery.records import claim
from scheduler.delivery.stats import DeliveryStats
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import (
    Delivery,
    DeliveryStatus,
    Objective,
    ObjectiveOwner,
    ScheduleItem,
    ScheduleKind,
)
from tests.actions import first_action
from tests.fakes.slack import FakeSlack

LONDON = dt.UTC


def client_for(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])


def posted_keys(fake: FakeSlack) -> Counter[str]:
    keys: Counter[str] = Counter()
    for call in fake.calls_to("chat.postMessage", ok=True):
        meta = call.args.get("metadata") or {}
        assert meta.get("event_type") == METADATA_EVENT_TYPE
        keys[meta["event_payload"]["key"]] += 1
    return keys


def add_due_objectives(
    ctx: AppContext, n: int, *, due: dt.date, owners: list[str] | None = None
) -> None:
    """``n`` open objectives with a deadline on ``due`` (owner i -> owners[i % len])."""
    now = ctx.clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        for i in range(n):
            o = Objective(
                partnership_id=p.id,
                plan_year=p.plan_year,
                position=1000 + i,
                title=f"Bulk objective {i:04d}",
                created_at=now - dt.timedelta(days=1),
                updated_at=now - dt.timedelta(days=1),
            )
            first_action(o).schedule.append(
                ScheduleItem(position=0, kind=ScheduleKind.DEADLINE, due_on=due, source_text="x")
            )
            if owners:
                uid = owners[i % len(owners)]
                first_action(o).owners.append(ObjectiveOwner(label=f"<@{uid}>", slack_user_id=uid))
            session.add(o)


@pytest.fixture(autouse=True)
def _fresh_gate() -> None:
    reset_gate()


def test_sweep_sends_each_due_reminder_once(ctx: AppContext, fake_slack: FakeSlack) -> None:
    # 26 Nov 2026 10:00Z is a Thursday; a deadline today gives the on-the-day notice.
    add_due_objectives(ctx, 3, due=dt.date(2026, 11, 26), owners=["U1", "U2", "U3"])
    report = run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    assert report.outbox.sent == 3
    keys = posted_keys(fake_slack)
    assert sorted(keys) == [
        f"rem:o{i}:2026-11-26:day:U{n}" for i, n in zip(sorted(_ids(ctx)), (1, 2, 3), strict=True)
    ]
    assert all(v == 1 for v in keys.values())
    # DMs go to the IM channel conversations.open gave.
    assert {c.args["channel"] for c in fake_slack.calls_to("chat.postMessage")} == {
        "DU1",
        "DU2",
        "DU3",
    }
    again = run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    assert again.outbox.sent == 0 and again.inserted == 0
    reset_gate()  # even a full re-plan at the same instant sends nothing new
    third = run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    assert third.outbox.sent == 0 and third.inserted == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def _ids(ctx: AppContext) -> list[int]:
    with session_scope(ctx.sessions) as session:
        return list(session.scalars(select(Objective.id).order_by(Objective.id)))


def test_no_owner_goes_to_channel_with_assign_prompt(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    add_due_objectives(ctx, 1, due=dt.date(2026, 12, 3))  # 7 days ahead, no owner
    run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    [msg] = fake_slack.messages("C0PARTNER")
    blob = str(msg.get("blocks"))
    assert "/csp owner" in blob
    assert "reminder_snooze" in blob and "reminder_done" in blob and "progress_open" in blob


def test_500s_and_429s_for_30_minutes_then_exactly_once(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    owners = [f"U{i:03d}" for i in range(20)]
    add_due_objectives(ctx, 40, due=dt.date(2026, 11, 26), owners=owners)
    client = client_for(fake_slack)
    troubles = 0
    # 30 simulated minutes: every call in each minute's sweep meets a 5xx or a 429.
    everything = 10_000
    for minute in range(30):
        if minute % 3 == 0:
            fake_slack.fail_next("chat.postMessage", everything, status=500)
        elif minute % 3 == 1:
            fake_slack.fail_next("chat.postMessage", everything, status=429, retry_after=20)
        else:
            fake_slack.fail_next("conversations.open", everything, status=503)
            fake_slack.fail_next("chat.postMessage", everything, status=502)
        stats = run_sweep(ctx, client=client, per_channel_interval=0).outbox
        troubles += stats.retried + stats.rate_limited
        fake_slack.clear_failures()
        clock.advance(dt.timedelta(minutes=1))
    # The outage is over: back-offs (capped at an hour) run out within two hours.
    for _ in range(24):
        run_sweep(ctx, client=client, per_channel_interval=0)
        clock.advance(dt.timedelta(minutes=5))
    keys = posted_keys(fake_slack)
    assert len(keys) == 40
    assert set(keys.values()) == {1}
    with session_scope(ctx.sessions) as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.SENT: 40}
    assert troubles >= 40  # every delivery met the outage at least once
    assert len(fake_slack.calls_to("chat.postMessage", ok=False)) >= 40


def test_rate_limit_waits_retry_after_without_burning_attempts(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    add_due_objectives(ctx, 1, due=dt.date(2026, 11, 26), owners=["U1"])
    fake_slack.fail_next("chat.postMessage", 1, status=429, retry_after=42)
    run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    with session_scope(ctx.sessions) as session:
        row = session.scalars(select(Delivery)).one()
        assert row.status == DeliveryStatus.PENDING
        assert row.attempts == 0
        assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=42)
    clock.advance(dt.timedelta(seconds=41))
    assert run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0).outbox.sent == 0
    clock.advance(dt.timedelta(seconds=1))
    assert run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0).outbox.sent == 1


def test_server_errors_back_off_exponentially(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    add_due_objectives(ctx, 1, due=dt.date(2026, 11, 26), owners=["U1"])
    start = clock.now()
    fake_slack.fail_next("chat.postMessage", 3, status=500)
    client = client_for(fake_slack)
    waits = []
    for _ in range(3):
        run_sweep(ctx, client=client, per_channel_interval=0)
        with session_scope(ctx.sessions) as session:
            row = session.scalars(select(Delivery)).one()
        waits.append(row.next_attempt_at - clock.now())
        clock.set(row.next_attempt_at)
    assert waits == [dt.timedelta(seconds=30), dt.timedelta(seconds=60), dt.timedelta(seconds=120)]
    assert run_sweep(ctx, client=client, per_channel_interval=0).outbox.sent == 1
    assert clock.now() - start == dt.timedelta(seconds=210)


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
def test_permanent_errors_fail_and_tell_admins_once(
    ctx: AppContext, fake_slack: FakeSlack, error: str
) -> None:
    add_due_objectives(ctx, 3, due=dt.date(2026, 12, 3))  # no owners: all to C0PARTNER
    fake_slack.fail_next("chat.postMessage", 3, error=error)
    report = run_sweep(ctx, client=client_for(fake_slack), per_channel_interval=0)
    assert report.outbox.failed == 3
    admin_dms = fake_slack.messages("DUADMIN")
    assert len(admin_dms) == 1
    assert error in admin_dms[0]["text"] or "C0PARTNER" in admin_dms[0]["text"]
    with session_scope(ctx.sessions) as session:
        failed = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
        ).all()
        assert {r.last_error for r in failed} == {error}
    # no retry later, and admins are not told again
    report = run_sweep(
        ctx, now=ctx.clock.now() + dt.timedelta(hours=2), client=client_for(fake_slack)
    )
    assert report.outbox.sent == 0
    assert len(fake_slack.messages("DUADMIN")) == 1


def test_in_flight_row_is_reconciled_not_reposted(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """A crash between Slack's ok and our commit: the next sweep finds the message."""
    now = clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        pid = p.id
        insert_planned(
            session,
            pid,
            [
                PlannedDelivery(
                    key="test:crash:1",
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                ),
                PlannedDelivery(
                    key="test:crash:2",
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "y", "failed_target": "C1"},
                ),
            ],
            now,
        )
    client = client_for(fake_slack)
    # Pretend an earlier process posted #1 and died before recording it.
    client.chat_postMessage(
        channel="C0PARTNER",
        text="posted before crash",
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": "test:crash:1"}},
    )
    with session_scope(ctx.sessions) as session:
        for row in session.scalars(select(Delivery)):
            row.status = DeliveryStatus.IN_FLIGHT
            row.slack_channel = "C0PARTNER"
            row.claimed_until = now + dt.timedelta(minutes=5)
            row.attempts = 1
    outbox = Outbox(ctx.sessions, client, clock=ctx.clock, per_channel_interval=0)
    assert outbox.run(now).sent == 0  # lease not over: left alone
    stats = outbox.run(now + dt.timedelta(minutes=6))
    assert stats.reconciled == 1 and stats.sent == 1
    assert Counter(posted_keys(fake_slack)) == {"test:crash:1": 1, "test:crash:2": 1}


def test_channels_are_served_concurrently_within_the_rate_limit(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    import time

    now = ctx.clock.now()
    fake_slack.per_channel_interval = 0.2
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        planned = [
            PlannedDelivery(
                key=f"test:rate:{c}:{i}",
                kind="delivery_failed",
                target=f"C{c:03d}",
                occurrence=now,
                payload={"reason": "x", "failed_target": "C1"},
            )
            for c in range(10)
            for i in range(5)
        ]
        insert_planned(session, p.id, planned, now)
    outbox = Outbox(
        ctx.sessions, client_for(fake_slack), clock=ctx.clock, per_channel_interval=0.21
    )
    started = time.monotonic()
    stats = outbox.run(now)
    took = time.monotonic() - started
    assert stats.sent == 50 and stats.rate_limited == 0
    assert took < 0.8 * 1.5 + 0.5  # floor: 4 gaps of 0.2 s per channel, in parallel
    assert set(posted_keys(fake_slack).values()) == {1}
    with session_scope(ctx.sessions) as session:
        assert (
            session.scalar(
                select(func.count(Delivery.id)).where(Delivery.status == DeliveryStatus.SENT)
            )
            == 50
        )


def test_pacing_carries_over_between_batches_and_runs(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    """Per-channel spacing runs from Slack's answer and survives batch boundaries."""
    now = ctx.clock.now()
    fake_slack.per_channel_interval = 0.2
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        pid = p.id
        insert_planned(
            session,
            pid,
            [
                PlannedDelivery(
                    key=f"test:pace:{c}:{i}",
                    kind="delivery_failed",
                    target=f"C{c:03d}",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
                for i in range(3)
                for c in range(4)
            ],
            now,
        )
    outbox = Outbox(
        ctx.sessions, client_for(fake_slack), clock=ctx.clock, per_channel_interval=0.21
    )
    # One row per channel per batch: every batch starts on channels just posted to.
    stats = DeliveryStats()
    for _ in range(3):
        batch = claim(ctx.sessions, now, per_target=1)
        assert len(batch) == 4 and len({row.target for row in batch}) == 4
        stats.add(outbox.deliver(batch, now))
    assert stats.sent == 12 and stats.rate_limited == 0
    assert set(posted_keys(fake_slack).values()) == {1}


def test_claim_caps_rows_per_target_and_marks_them_in_one_go(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    now = ctx.clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            p.id,
            [
                PlannedDelivery(
                    key=f"test:cap:{target}:{i}",
                    kind="delivery_failed",
                    target=target,
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
                for target in ("CBUSY", "CQUIET")
                for i in range(5 if target == "CBUSY" else 1)
            ],
            now,
        )
    first = claim(ctx.sessions, now, per_target=2)
    assert Counter(row.target for row in first) == {"CBUSY": 2, "CQUIET": 1}
    assert not any(row.reconcile for row in first)
    second = claim(ctx.sessions, now, per_target=2)
    assert Counter(row.target for row in second) == {"CBUSY": 2}
    assert not {row.id for row in first} & {row.id for row in second}
    with session_scope(ctx.sessions) as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
        attempts = set(
            session.scalars(
                select(Delivery.attempts).where(Delivery.status == DeliveryStatus.IN_FLIGHT)
            )
        )
    assert statuses == {DeliveryStatus.IN_FLIGHT: 5, DeliveryStatus.PENDING: 1}
    assert attempts == {1}


class _AnswerLost(WebClient):
    """Slack posts the message but the answer never arrives (a timeout, once)."""

    lost = 1

    def chat_postMessage(self, **kwargs: Any) -> Any:
        response = super().chat_postMessage(**kwargs)
        if self.lost:
            self.lost -= 1
            raise TimeoutError("The read operation timed out")
        return response


def test_post_without_answer_is_reconciled_not_reposted(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    now = clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            p.id,
            [
                PlannedDelivery(
                    key="test:lost:1",
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
            ],
            now,
        )
    client = _AnswerLost(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    outbox = Outbox(ctx.sessions, client, clock=ctx.clock, per_channel_interval=0)
    first = outbox.run(now)
    assert first.sent == 0 and first.retried == 1
    with session_scope(ctx.sessions) as session:
        row = session.scalars(select(Delivery)).one()
        assert row.status == DeliveryStatus.IN_FLIGHT  # unknown outcome: look before resending
        assert row.claimed_until == now + dt.timedelta(seconds=30)
    assert outbox.run(now + dt.timedelta(seconds=10)).reconciled == 0  # still backing off
    later = outbox.run(now + dt.timedelta(seconds=31))
    assert later.reconciled == 1 and later.sent == 0
    assert posted_keys(fake_slack) == {"test:lost:1": 1}
    with session_scope(ctx.sessions) as session:
        assert session.scalars(select(Delivery.status)).one() == DeliveryStatus.SENT


def test_fresh_process_skips_calendar_planning_until_something_changes(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """The plan gate lives in the database, so a cron-driven sweep can skip too."""
    from store.models import Base

    Base.metadata.create_all(ctx.engine)  # sweep_gate, until the migration has it
    add_due_objectives(ctx, 2, due=dt.date(2027, 3, 1), owners=["U1"])
    client = client_for(fake_slack)
    assert run_sweep(ctx, client=client, per_channel_interval=0).calendar_planned
    for minutes in (1, 2):
        reset_gate()  # a new process knows nothing
        report = run_sweep(ctx, now=clock.now() + dt.timedelta(minutes=minutes), client=client)
        assert not report.calendar_planned
    # A plan change is seen by the next process.
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=clock.now())
        o = Objective(
            partnership_id=p.id,
            plan_year=p.plan_year,
            position=2000,
            title="Added later",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        first_action(o).schedule.append(
            ScheduleItem(
                position=0,
                kind=ScheduleKind.DEADLINE,
                due_on=dt.date(2026, 11, 26),
                source_text="x",
            )
        )
        first_action(o).owners.append(ObjectiveOwner(label="<@U2>", slack_user_id="U2"))
        session.add(o)
    reset_gate()
    report = run_sweep(ctx, now=clock.now() + dt.timedelta(minutes=3), client=client)
    assert report.calendar_planned and report.outbox.sent >= 1
    reset_gate()
    assert not run_sweep(
        ctx, now=clock.now() + dt.timedelta(minutes=4), client=client
    ).calendar_planned
    # Passing a send time (09:00 tomorrow) plans again.
    reset_gate()
    tomorrow = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    assert run_sweep(ctx, now=tomorrow, client=client).calendar_planned
    reset_gate()
    assert not run_sweep(
        ctx, now=tomorrow + dt.timedelta(minutes=1), client=client
    ).calendar_planned


def test_each_round_is_leased_from_its_own_start_so_a_second_sweeper_posts_nothing_twice(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """A backlog taking longer than a lease: every round's lease runs from when it is taken.

    Each post takes 2 minutes of (fixed, moved) time and each round takes one row, so
    the fourth round starts 6 minutes in, past a lease dated from the start of the run.
    A second sweeper claims (one row) before each post; it must never find a row the
    first one is still posting.
    """
    now = clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            p.id,
            [
                PlannedDelivery(
                    key=f"test:lease:{i}",
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
                for i in range(8)
            ],
            now,
        )
    plain = client_for(fake_slack)
    second = Outbox(ctx.sessions, plain, clock=clock, per_channel_interval=0)
    other = DeliveryStats()

    class SlowSlack(WebClient):
        def chat_postMessage(self, **kwargs: Any) -> Any:
            clock.advance(dt.timedelta(minutes=2))
            other.add(second.deliver(claim(ctx.sessions, clock.now(), limit=1)))
            return super().chat_postMessage(**kwargs)

    slow = SlowSlack(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    first = Outbox(ctx.sessions, slow, clock=clock, per_channel_interval=0, batch=1)
    stats = first.run()
    assert stats.sent + other.sent + other.reconciled == 8
    assert posted_keys(fake_slack) == {f"test:lease:{i}": 1 for i in range(8)}
    with session_scope(ctx.sessions) as session:
        assert set(session.scalars(select(Delivery.status))) == {DeliveryStatus.SENT}


def _one_row(ctx: AppContext, key: str) -> None:
    now = ctx.clock.now()
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        insert_planned(
            session,
            p.id,
            [
                PlannedDelivery(
                    key=key,
                    kind="delivery_failed",
                    target="C0PARTNER",
                    occurrence=now,
                    payload={"reason": "x", "failed_target": "C1"},
                )
            ],
            now,
        )


def test_worker_that_lost_its_lease_does_not_post(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """Worker 1 claims and stalls past its lease; worker 2 re-leases the row and posts.

    Worker 1 then carries on (here: while worker 2's post is on its way, after worker 2
    has looked in the history): it must see the lease is no longer its own and post
    nothing, and the row ends sent once, with worker 2's message.
    """
    _one_row(ctx, "test:stolen")
    first = Outbox(ctx.sessions, client_for(fake_slack), clock=clock, per_channel_interval=0)
    mine = claim(ctx.sessions, clock.now())
    assert [r.key for r in mine] == ["test:stolen"]
    clock.advance(dt.timedelta(minutes=6))  # worker 1's lease has run out
    late = DeliveryStats()

    class Racing(WebClient):
        def chat_postMessage(self, **kwargs: Any) -> Any:
            late.add(first.deliver(mine))  # worker 1 wakes up just now
            return super().chat_postMessage(**kwargs)

    racing = Racing(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    second = Outbox(ctx.sessions, racing, clock=clock, per_channel_interval=0)
    theirs = claim(ctx.sessions, clock.now())
    assert [r.key for r in theirs] == ["test:stolen"]
    stats = second.deliver(theirs)
    assert stats.sent == 1
    assert late.sent == 0 and late.lost == 1
    assert posted_keys(fake_slack) == {"test:stolen": 1}
    with session_scope(ctx.sessions) as session:
        row = session.scalars(select(Delivery)).one()
        assert row.status == DeliveryStatus.SENT and row.claimed_until is None


def test_worker_that_lost_its_lease_does_not_overwrite_the_new_owners_outcome(
    ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    """Worker 1's post stalls past its lease, worker 2 re-leases and posts, then worker
    1's call comes back with a 500: its retry must not put the sent row back to pending
    (which would post it again next sweep)."""
    _one_row(ctx, "test:settle")
    plain = client_for(fake_slack)
    second = Outbox(ctx.sessions, plain, clock=clock, per_channel_interval=0)
    other = DeliveryStats()

    class Stalling(WebClient):
        def chat_postMessage(self, **kwargs: Any) -> Any:
            clock.advance(dt.timedelta(minutes=6))
            other.add(second.deliver(claim(ctx.sessions, clock.now())))
            fake_slack.fail_for("chat.postMessage", 5.0, status=500)
            return super().chat_postMessage(**kwargs)

    stalling = Stalling(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    first = Outbox(ctx.sessions, stalling, clock=clock, per_channel_interval=0)
    stats = first.deliver(claim(ctx.sessions, clock.now()))
    assert other.sent == 1 and stats.sent == 0
    with session_scope(ctx.sessions) as session:
        row = session.scalars(select(Delivery)).one()
        assert row.status == DeliveryStatus.SENT and row.slack_ts is not None
        assert row.attempts == 1  # re-leasing counts no attempt; the 500 counted none
    assert posted_keys(fake_slack) == {"test:settle": 1}


def test_claim_batches_fit_inside_a_lease(ctx: AppContext, fake_slack: FakeSlack) -> None:
    from scheduler.delivery.outbox import EXPECTED_CALL_SECONDS
    from scheduler.delivery.records import LEASE

    one = Outbox(ctx.sessions, client_for(fake_slack), workers=1)
    assert one.batch_cap() * EXPECTED_CALL_SECONDS <= LEASE.total_seconds() / 2
    four = Outbox(ctx.sessions, client_for(fake_slack), workers=4, batch=100_000)
    assert four.batch_cap() == int(4 * LEASE.total_seconds() / 2 / EXPECTED_CALL_SECONDS)
