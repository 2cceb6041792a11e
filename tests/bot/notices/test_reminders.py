"""Reminder source and views: targets, keys, snooze/done, and the button blocks."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.ids import Ids
from bot.notices.reminder_renderers import render_reminder
from bot.notices.reminder_sources import reminder_source
from bot.plan.members import ensure_partnership
from bot.slack.delivery_failures import (
    DeliveryFailureView,
    build_delivery_failure_blocks,
    failure_text,
)
from bot.slack.reminders import (
    DoneTarget,
    ReminderView,
    build_reminder_blocks,
    build_resolved_blocks,
    done_value,
    parse_done_value,
)
from store.db import session_scope
from store.models import Delivery, Objective, ObjectiveOwner, ScheduleItem, ScheduleKind
from tests.actions import first_action

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # Thursday


def _objective(ctx: AppContext, due: dt.date, owners: list[str]) -> int:
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=NOW)
        o = Objective(
            partnership_id=p.id,
            plan_year=p.plan_year,
            position=1,
            title="Strategic Assessment",
            created_at=NOW - dt.timedelta(days=60),
            updated_at=NOW - dt.timedelta(days=60),
        )
        first_action(o).schedule.append(
            ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=due, source_text="x")
        )
        for u in owners:
            first_action(o).owners.append(ObjectiveOwner(label=u, slack_user_id=u))
        session.add(o)
        session.flush()
        return o.id


def _plan(ctx: AppContext, now: dt.datetime = NOW) -> list[tuple[str, str, str]]:
    with session_scope(ctx.sessions) as session:
        p = ensure_partnership(session, ctx.settings, now=now)
        return sorted((d.kind, d.target, d.key) for d in reminder_source(session, p, now))


def test_owners_get_dms_and_overdue_also_goes_to_channel(ctx: AppContext) -> None:
    oid = _objective(ctx, dt.date(2026, 12, 3), ["U1", "U2"])
    assert _plan(ctx) == [
        ("deadline", "U1", f"rem:o{oid}:2026-12-03:d7:U1"),
        ("deadline", "U2", f"rem:o{oid}:2026-12-03:d7:U2"),
    ]
    later = dt.datetime(2026, 12, 10, 9, 30, tzinfo=dt.UTC)
    assert [(k, t) for k, t, _ in _plan(ctx, later)] == [
        ("overdue", "C0PARTNER"),
        ("overdue", "U1"),
        ("overdue", "U2"),
    ]


def test_no_owner_goes_to_channel_and_snooze_silences(ctx: AppContext) -> None:
    oid = _objective(ctx, dt.date(2026, 11, 26), [])
    assert _plan(ctx) == [("deadline", "C0PARTNER", f"rem:o{oid}:2026-11-26:day:C0PARTNER")]
    with session_scope(ctx.sessions) as session:
        o = session.get(Objective, oid)
        assert o is not None
        o.snoozed_until = NOW + dt.timedelta(days=7)
    assert _plan(ctx) == []
    # the overdue falling inside the snooze is skipped; the next weekly one comes
    assert _plan(ctx, dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)) == []
    assert _plan(ctx, dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)) == [
        ("overdue", "C0PARTNER", f"rem:o{oid}:2026-11-26:overdue2:C0PARTNER")
    ]


def test_done_item_stops_reminders(ctx: AppContext) -> None:
    oid = _objective(ctx, dt.date(2026, 11, 26), ["U1"])
    with session_scope(ctx.sessions) as session:
        item = session.scalars(select(ScheduleItem).where(ScheduleItem.objective_id == oid)).one()
        item.done_at = NOW
    assert _plan(ctx) == []


def test_reminder_blocks_have_the_three_buttons_and_resolve_cleanly() -> None:
    view = ReminderView(
        kind="overdue",
        stage="overdue1",
        objective_id=7,
        title="Partnership Plan",
        today=dt.date(2026, 12, 7),
        due_on=dt.date(2026, 11, 30),
        owners=("U1",),
        item_id=9,
    )
    blocks = [b.to_dict() for b in build_reminder_blocks(view)]
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e["value"]) for e in actions] == [
        (Ids.PROGRESS_OPEN, "7"),
        (Ids.REMINDER_SNOOZE, "7"),
        (Ids.REMINDER_DONE, "o=7;i=9;d=2026-11-30"),
    ]
    assert "Overdue" in blocks[0]["text"]["text"] and "7 days ago" in blocks[0]["text"]["text"]
    resolved = build_resolved_blocks(blocks, "Snoozed until Mon 14 Dec")
    assert all(b["type"] != "actions" for b in resolved)
    assert resolved[-1]["elements"][0]["text"] == "Snoozed until Mon 14 Dec"
    again = build_resolved_blocks(resolved, "Marked done")
    assert [b.get("block_id") for b in again].count("reminder_state") == 1


def test_unowned_reminder_prompts_for_an_owner() -> None:
    view = ReminderView(
        kind="deadline",
        stage="d14",
        objective_id=3,
        title="PREVENT",
        today=dt.date(2026, 5, 15),
        due_on=dt.date(2026, 5, 29),
        owners=("Jo Bloggs",),
        no_owner=True,
        late=True,
        planned_for=dt.date(2026, 5, 14),
    )
    text = str([b.to_dict() for b in build_reminder_blocks(view)])
    assert "/csp owner" in text and "Jo Bloggs" in text and "Sent late" in text


def test_catch_up_notices_wait_for_working_hours(seeded_ctx: AppContext, clock: FixedClock) -> None:
    """A cron sweep at 05:10 sends no late notices; the 09:00 one sends them all."""
    from scheduler.gate import reset_gate
    from scheduler.sweep import run_sweep

    reset_gate()
    clock.set(dt.datetime(2026, 11, 26, 5, 10, tzinfo=dt.UTC))  # Thursday, 05:10 London
    night = run_sweep(seeded_ctx, dry_run=True)
    assert night.would_send == []
    clock.set(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))
    morning = run_sweep(seeded_ctx, dry_run=True)
    kinds = Counter(w.kind for w in morning.would_send)
    # The seed's dated 2026 deadlines; its yearly survey was loaded after 31 March.
    assert kinds["overdue"] == 7 and kinds["meeting_set_date"] >= 2
    assert any(w.late for w in morning.would_send)
    clock.set(dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC))  # Saturday: nothing late
    assert run_sweep(seeded_ctx, dry_run=True).would_send == []
    clock.set(dt.datetime(2026, 11, 26, 18, 30, tzinfo=dt.UTC))  # evening: nothing late
    assert run_sweep(seeded_ctx, dry_run=True).would_send == []


def test_done_value_names_the_item_and_parses_back() -> None:
    value = done_value(2_000_000_000, 2_000_000_000, dt.date(2026, 12, 3))
    assert len(value) < 100  # far under Slack's 2,000-character limit
    assert parse_done_value(value) == DoneTarget(2_000_000_000, 2_000_000_000, dt.date(2026, 12, 3))
    assert parse_done_value("12") == DoneTarget(12)  # older reminders: the objective only
    for bad in ("", "x", "o=1;o=2", "i=3", "o=1;z=2", "o=1;d=tomorrow"):
        with pytest.raises(ValueError):
            parse_done_value(bad)


def test_resolved_blocks_keep_the_state_line_on_a_full_message() -> None:
    full = [
        {"type": "section", "block_id": f"s{i}", "text": {"type": "mrkdwn", "text": "x"}}
        for i in range(50)
    ]
    resolved = build_resolved_blocks(full, "Marked done by <@U1>")
    assert len(resolved) == 50
    assert resolved[-1]["block_id"] == "reminder_state"
    assert resolved[-1]["elements"][0]["text"] == "Marked done by <@U1>"


def test_referral_failures_point_at_the_safeguarding_setup() -> None:
    at = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    for reason, hint in (
        ("channel_not_found", "CSP_SAFEGUARDING_CHANNEL"),
        ("not_in_channel", "safeguarding channel"),
        ("account_inactive", "CSP_SAFEGUARDING_LEADS"),
    ):
        view = DeliveryFailureView(
            reason=reason, target="C0SG", kind="referral_alert", failed_at=at
        )
        text = json.dumps([b.to_dict() for b in build_delivery_failure_blocks(view)])
        assert hint in text, reason
        assert "safeguarding referral alert" in text
        assert "referral_alert" not in text and "referral_alert" not in failure_text(view)
        assert failure_text(view).startswith("A safeguarding referral alert message")
        assert "CSP_PARTNERSHIP_CHANNEL" not in text and "new owner" not in text
    deadline = DeliveryFailureView("channel_not_found", "C0PARTNER", "deadline", at)
    assert "CSP_PARTNERSHIP_CHANNEL" in json.dumps(
        [b.to_dict() for b in build_delivery_failure_blocks(deadline)]
    )


def _blocks_json(blocks: object) -> str:
    assert isinstance(blocks, list)
    return json.dumps([b if isinstance(b, dict) else b.to_dict() for b in blocks])


def test_reminder_names_its_item_and_dates_progress_by_the_local_day(ctx: AppContext) -> None:
    oid = _objective(ctx, dt.date(2026, 12, 3), ["U1"])
    late = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 on 11 June, London
    with session_scope(ctx.sessions) as session:
        item = session.scalars(select(ScheduleItem).where(ScheduleItem.objective_id == oid)).one()
        deadline = Delivery(
            kind="deadline",
            objective_id=oid,
            payload={"due_on": "2026-12-03", "stage": "d7", "item": "deadline"},
            late=False,
        )
        message = render_reminder(session, deadline, NOW)
        assert message is not None
        assert f"o={oid};i={item.id};d=2026-12-03" in _blocks_json(message.blocks)
        quiet = Delivery(
            kind="quiet",
            objective_id=oid,
            payload={"stage": "quiet1", "last_progress": late.isoformat()},
            late=False,
        )
        message = render_reminder(session, quiet, NOW)
        assert message is not None
        assert "since Thu 11 Jun 2026" in _blocks_json(message.blocks)


def test_send_instant_is_gone() -> None:
    import bot.notices.reminder_sources

    assert not hasattr(bot.notices.reminder_sources, "send_instant")
