"""The announcer looks at the outbox when something new may go, not at every update."""

from __future__ import annotations

import time

import pytest

from bot.context import AppContext
from bot.notices.progress_updates import queue_progress_update
from handlers.app import make_client
from scheduler.delivery.announcer import Announcer
from scheduler.delivery.lanes import ChannelPacer
from store.db import session_scope
from tests.fakes.slack import FakeSlack

CHANNEL = "C0PARTNER"


def _queue(ctx: AppContext, n: int, channel: str = CHANNEL) -> None:
    with session_scope(ctx.sessions) as session:
        from bot.plan.members import ensure_partnership

        partnership = ensure_partnership(session, ctx.settings, now=ctx.clock.now())
        queue_progress_update(
            session,
            partnership.id,
            channel,
            entry_id=n,
            text=f"<@U{n}> added a note.",
            status="Green",
            fallback="A note.",
            now=ctx.clock.now(),
        )


def test_updates_joining_a_row_that_waits_for_its_turn_cost_no_round(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    pacer = ChannelPacer()
    pacer.answered(CHANNEL, time.monotonic())  # the channel was posted to just now
    announcer = Announcer(ctx.sessions, make_client(ctx.settings), clock=ctx.clock, pacer=pacer)
    rounds: list[float] = []
    real_round = announcer._round

    def counted() -> float | None:
        rounds.append(time.monotonic())
        return real_round()

    announcer._round = counted  # type: ignore[method-assign]
    _queue(ctx, 1)
    announcer.poke(CHANNEL)
    deadline = time.monotonic() + 0.5
    while not rounds and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(rounds) == 1  # it looked, and found the row waiting for the channel's turn
    for n in range(2, 12):  # later updates join that row: nothing new to look at
        _queue(ctx, n)
        announcer.poke(CHANNEL)
    time.sleep(0.1)
    assert len(rounds) == 1
    _queue(ctx, 50, channel="C0OTHER")  # another channel's row may go now: looked at at once
    announcer.poke("C0OTHER")
    deadline = time.monotonic() + 0.5
    while len(rounds) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(rounds) == 2
    assert announcer.wait_idle(timeout=10)
    posts = fake_slack.calls_to("chat.postMessage", ok=True)
    assert sorted(call.args["channel"] for call in posts) == ["C0OTHER", CHANNEL]
    text = " ".join(str(call.args.get("blocks")) for call in posts)
    assert all(f"<@U{n}>" in text for n in [*range(1, 12), 50])


def test_an_update_queued_while_a_round_posts_is_not_missed(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.delivery.announcer as announcer_module

    pacer = ChannelPacer()
    pacer.answered(CHANNEL, time.monotonic() - 0.8)  # the channel's turn comes in 0.2 s
    announcer = Announcer(ctx.sessions, make_client(ctx.settings), clock=ctx.clock, pacer=pacer)
    real = announcer_module.waiting_rows
    calls: list[int] = []

    def racing(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(len(found))
        if len(calls) == 3:  # the read after the round's post: an update lands just after
            _queue(ctx, 99)
            announcer.poke(CHANNEL)
        return found

    monkeypatch.setattr(announcer_module, "waiting_rows", racing)
    _queue(ctx, 1)
    announcer.poke(CHANNEL)  # round 1: the row waits for the channel's turn
    assert announcer.wait_idle(timeout=10)
    text = " ".join(str(c.args.get("blocks")) for c in fake_slack.calls_to("chat.postMessage"))
    assert "<@U1>" in text and "<@U99>" in text
