"""Day one: the first sweep after the seed, an import, a rollover or a new channel posts a
handful of messages, not one per overdue item; a digest day does not repeat the digest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.plan.members import set_channels
from handlers.cli.slack import _load_seed
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, Partnership
from tests.fakes.slack import FakeSlack

THURSDAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # 10:00 in London
MONDAY = dt.datetime(2026, 11, 30, 9, 5, tzinfo=dt.UTC)  # digest day, 09:05
NEXT_THURSDAY = dt.datetime(2026, 12, 3, 9, 5, tzinfo=dt.UTC)
CH = "C0PARTNER"


def _posts(fake: FakeSlack) -> list[dict[str, object]]:
    return [c.args for c in fake.calls_to("chat.postMessage", ok=True)]


def _kinds(ctx: AppContext) -> list[str]:
    with session_scope(ctx.sessions) as session:
        return list(session.scalars(select(Delivery.kind).order_by(Delivery.id)))


def _start_like_the_readme(ctx: AppContext, at: dt.datetime) -> None:
    """What `csp-bot start` does first on a fresh database: load and roll forward the seed."""
    reset_gate()
    ctx.clock = FixedClock(at)
    assert _load_seed(ctx) > 0


def test_the_first_sweep_after_a_fresh_start_posts_at_most_three_messages(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    _start_like_the_readme(ctx, THURSDAY)
    run_sweep(ctx, per_channel_interval=0)
    posts = _posts(fake_slack)
    assert len(posts) <= 3, [p.get("text") for p in posts]
    in_channel = [p for p in posts if p["channel"] == CH]
    assert len(in_channel) == 1
    summary = in_channel[0]
    assert "already overdue" in str(summary["text"])
    buttons = [b for b in summary["blocks"] if b.get("accessory")]  # type: ignore[union-attr]
    assert len(buttons) == 7  # the seven items overdue at the start, each with its button
    assert all(b["accessory"]["text"]["text"] == "Log progress" for b in buttons)
    assert "overdue" not in _kinds(ctx)


def test_individual_chasing_starts_from_the_next_weekly_notice(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    _start_like_the_readme(ctx, THURSDAY)
    run_sweep(ctx, per_channel_interval=0)
    run_sweep(ctx, now=THURSDAY + dt.timedelta(hours=3), per_channel_interval=0)
    assert _kinds(ctx).count("overdue") == 0  # the same day: still the one summary
    run_sweep(ctx, now=NEXT_THURSDAY, per_channel_interval=0)
    kinds = _kinds(ctx)
    assert kinds.count("overdue_summary") == 1
    # The weekly notices of the seven items overdue at the start (this Thursday's, and
    # Friday 27th's, late: no sweep and no digest since); none the summary stood in for.
    assert kinds.count("overdue") == 7
    with session_scope(ctx.sessions) as session:
        times = session.scalars(select(Delivery.occurrence).where(Delivery.kind == "overdue"))
        assert all(t.replace(tzinfo=dt.UTC) > THURSDAY for t in times)


def test_on_a_digest_day_the_digest_stands_in_for_the_summary_and_the_notices(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    _start_like_the_readme(ctx, MONDAY)
    run_sweep(ctx, per_channel_interval=0)
    in_channel = [p for p in _posts(fake_slack) if p["channel"] == CH]
    assert len(in_channel) == 1 and "digest" in str(in_channel[0]["text"]).lower()
    assert len(_posts(fake_slack)) <= 3
    kinds = _kinds(ctx)
    assert "overdue" not in kinds and "overdue_summary" not in kinds


def test_a_digest_day_later_on_posts_no_overdue_notices_beside_the_digest(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    _start_like_the_readme(ctx, THURSDAY)
    run_sweep(ctx, per_channel_interval=0)
    before = len(_posts(fake_slack))
    # Two items fall overdue again on Friday 27th; nobody swept until Monday's digest.
    run_sweep(ctx, now=MONDAY, per_channel_interval=0)
    new = _posts(fake_slack)[before:]
    assert [p["channel"] for p in new] == [CH]
    assert "overdue" not in _kinds(ctx)


def test_a_channel_set_later_gets_one_summary(ctx: AppContext, fake_slack: FakeSlack) -> None:
    _start_like_the_readme(ctx, THURSDAY)
    with session_scope(ctx.sessions) as session:
        partnership = session.scalars(select(Partnership)).one()
        set_channels(partnership, "C0NEWCHAN", None, now=THURSDAY + dt.timedelta(hours=1))
        partnership.settings = {**partnership.settings, "setup": {"by": "UADMIN"}}
    run_sweep(ctx, now=THURSDAY + dt.timedelta(hours=1), per_channel_interval=0)
    new_channel = [p for p in _posts(fake_slack) if p["channel"] == "C0NEWCHAN"]
    assert len(new_channel) == 1 and "already overdue" in str(new_channel[0]["text"])
