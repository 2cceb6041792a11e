"""A reminder's Snooze and Mark done buttons, through the real Bolt app: Mark done closes
exactly the item the reminder was about, a second click closes nothing, and the change is
committed before the message is updated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select

import handlers.listeners
import handlers.reminders
from bot.context import AppContext
from bot.ids import Ids
from bot.plan.members import ensure_partnership
from bot.slack.reminders import done_value
from store.db import session_scope
from store.models import Objective, ObjectiveOwner, ProgressEntry, ScheduleItem, ScheduleKind
from tests.actions import first_action
from tests.fakes.slack import FakeSlack, block_action, signed_request

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.reminders.register,))
    return build_app(ctx, process_before_response=True)


def send(app: App, body: dict[str, str]) -> int:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status


def _objective(ctx: AppContext) -> tuple[int, int, int]:
    """An objective with two open deadlines (3 Dec, 15 Jan): its id and the items' ids."""
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
        first = ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=dt.date(2026, 12, 3))
        second = ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=dt.date(2027, 1, 15))
        first_action(o).schedule.extend([first, second])
        first_action(o).owners.append(ObjectiveOwner(label="<@UOWNER>", slack_user_id="UOWNER"))
        session.add(o)
        session.flush()
        return o.id, first.id, second.id


def _done_at(ctx: AppContext) -> dict[dt.date, dt.datetime | None]:
    with session_scope(ctx.sessions) as session:
        return {i.due_on: i.done_at for i in session.scalars(select(ScheduleItem)) if i.due_on}


def _updates(fake_slack: FakeSlack) -> list[str]:
    return [str(c.args.get("text")) for c in fake_slack.calls_to("chat.update")]


def test_mark_done_twice_closes_one_deadline_and_says_who(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    oid, first, _ = _objective(ctx)
    value = done_value(oid, first, dt.date(2026, 12, 3))
    assert len(value) < 100
    assert send(app, block_action(Ids.REMINDER_DONE, value, user_id="UOWNER")) == 200
    # The same button again (a second click, or an old copy of the reminder clicked late).
    assert send(app, block_action(Ids.REMINDER_DONE, value, user_id="UADMIN")) == 200
    done = _done_at(ctx)
    assert done[dt.date(2026, 12, 3)] is not None
    assert done[dt.date(2027, 1, 15)] is None  # the next deadline stays open
    with session_scope(ctx.sessions) as session:
        entries = session.scalars(select(ProgressEntry).where(ProgressEntry.done.is_(True)))
        assert [e.slack_user_id for e in entries] == ["UOWNER"]  # the second click stored nothing
    first_update, second_update = _updates(fake_slack)
    assert "Marked done by <@UOWNER>" in first_update and "3 December 2026" in first_update
    assert "already marked done by <@UOWNER> on 26 Nov" in second_update


def test_mark_done_without_an_item_closes_nothing(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    oid, _, _ = _objective(ctx)
    send(app, block_action(Ids.REMINDER_DONE, str(oid), user_id="UOWNER"))
    assert all(v is None for v in _done_at(ctx).values())
    assert _updates(fake_slack) == []


def test_changes_are_committed_before_the_message_is_updated(
    app: App, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While chat.update runs, another connection already sees (and can write) the change."""
    oid, first, _ = _objective(ctx)
    seen: list[tuple[str, Any]] = []
    real = handlers.reminders._update_message

    def update(client: Any, body: dict[str, Any], state_line: str) -> None:
        with session_scope(ctx.sessions) as session:
            o = session.get(Objective, oid)
            item = session.get(ScheduleItem, first)
            assert o is not None and item is not None
            seen.append(("snoozed", o.snoozed_until))
            seen.append(("done", item.done_at))
            o.updated_at = NOW  # a write: fails if the click still held the write lock
        real(client, body, state_line)

    monkeypatch.setattr(handlers.reminders, "_update_message", update)
    send(app, block_action(Ids.REMINDER_SNOOZE, str(oid), user_id="UOWNER"))
    assert seen[0][0] == "snoozed" and seen[0][1] is not None
    seen.clear()
    send(
        app,
        block_action(
            Ids.REMINDER_DONE, done_value(oid, first, dt.date(2026, 12, 3)), user_id="UOWNER"
        ),
    )
    assert seen[1][0] == "done" and seen[1][1] is not None
