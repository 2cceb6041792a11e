"""Plan text is data: every reply, post, view and fallback text the bot sends over
hostile titles, owners, places and notes shows them literally (mrkdwn escaped)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Meeting, Objective, ObjectiveOwner, ScheduleItem, ScheduleKind
from tests.actions import first_action
from tests.fakes.slack import (
    FakeSlack,
    block_action,
    event_callback,
    slash_command,
    view_submission,
)
from tests.handlers.referrals.test_lead_actions import in_modal, send
from tests.handlers.referrals.test_leaks import good_values
from tests.handlers.test_http import _modal_values, csp, post

HOSTILE = "Safer streets <!channel> & <https://x.example/|the council page>"
# ... and the plan's own hint "/csp owner <objective> @person" must show literally too.
RAW = ("<!channel>", "<https://x.example/", "|the council page>", " & ", "<objective>")
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _leaves(node: Any, path: str = "", plain: bool = False) -> Iterator[tuple[str, str, bool]]:
    if isinstance(node, dict):
        is_plain = node.get("type") == "plain_text"
        for key, value in node.items():
            if key in ("action_id", "block_id", "value", "url", "private_metadata", "callback_id"):
                continue
            yield from _leaves(value, f"{path}.{key}", is_plain)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{path}[{i}]", plain)
    elif isinstance(node, str):
        yield path, node, plain


def unescaped(payload: Any) -> list[str]:
    """Every mrkdwn string (and fallback text) holding raw hostile data."""
    bad = []
    for path, text, plain in _leaves(payload):
        if plain:
            continue
        if any(raw in text for raw in RAW):
            bad.append(f"{path}: {text[:160]!r}")
    return bad


def _make_hostile(ctx: AppContext) -> None:
    with session_scope(ctx.sessions) as s:
        for o in s.scalars(select(Objective)):
            o.title = f"{HOSTILE} obj{o.id}x"
            o.action_text = HOSTILE
            o.statutory_basis = HOSTILE
            for owner in o.owners:
                owner.label = HOSTILE
            first_action(o).owners.append(ObjectiveOwner(label=HOSTILE, slack_user_id=None))
            for item in o.schedule:
                item.body = HOSTILE
            # A deadline in ten days: deadline reminders fall within the sweeps below.
            first_action(o).schedule.append(
                ScheduleItem(kind=ScheduleKind.DEADLINE, due_on=dt.date(2026, 12, 7), body=HOSTILE)
            )
        for m in s.scalars(select(Meeting)):
            m.body = f"{HOSTILE} mtg{m.id}x"
            m.place = HOSTILE


def test_every_reply_shows_hostile_plan_text_literally(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    _make_hostile(seeded_ctx)
    seen: list[tuple[str, Any]] = []
    for text in (
        "help",
        "help progress",
        "help owner",
        "plan",
        "plan 2",
        "show safer",
        "show qqqqzz",
        "show 1",
        "due",
        "due 365",
        "meetings",
        "digest",
        f"progress obj3x amber {HOSTILE}",
        f"progress {HOSTILE} 1 amber {HOSTILE}",
        "show obj3x",
        f"owner obj4x {HOSTILE}",
        "owner obj4x <@U0SAM|sam>",
        f"progress safer green {HOSTILE}",
        f"owner {HOSTILE} 2 <@U0SAM|sam>",
        f"meeting {HOSTILE} 2026-12-08 10:00",
        "meeting mtg1x 2026-12-21 10:00",
        *(f"meeting mtg{i}x 2026-12-{8 + i:02d} 10:00" for i in range(1, 8)),
        f"show {HOSTILE}",
    ):
        seen.append((text, csp(slack_http, fake_slack, text)))
    # A non-admin assigning owners is refused, naming what was typed.
    refused = csp(slack_http, fake_slack, f"owner {HOSTILE} <@U0SAM|sam>", "U0NOBODY")
    assert "Only partnership admins" in refused["text"]
    seen.append(("owner refused", refused))
    # A referral with hostile contents: the lead's list, Home tab, and (below) the
    # escalations while nobody acknowledges it.
    status, body = post(
        slack_http, view_submission(Ids.REFERRAL_MODAL, good_values(HOSTILE), user_id="UMEMBER")
    )
    assert status == 200 and "SG-2026-0001" in body
    seen.append(("referral answer", json.loads(body)))
    seen.append(("referrals", csp(slack_http, fake_slack, "referrals", "ULEAD")))
    for user in ("UADMIN", "ULEAD"):
        status, _ = post(
            slack_http,
            event_callback({"type": "app_home_opened", "user": user, "tab": "home"}),
            content_type="json",
        )
        assert status == 200
    fake_slack.wait_for("views.publish", 2, timeout=10)
    # Reminders, meeting notices, set-date prompts and the digest, as the sweeps post
    # them over the next ten weeks; some posts fail, so admins get failure notices.
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    at = NOW
    for day in range(70):
        seeded_ctx.clock.set(at)  # type: ignore[attr-defined]
        if day == 7:
            fake_slack.fail_next("chat.postMessage", 3, error="channel_not_found")
        run_sweep(seeded_ctx, client=client, per_channel_interval=0)
        at += dt.timedelta(days=1)
    # The Log progress form, over a hostile note, and a reminder's buttons.
    status, _ = post(slack_http, slash_command("progress", response_url=fake_slack.response_url()))
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    option = view["blocks"][0]["element"]["options"][2]["value"]
    status, body = post(
        slack_http,
        view_submission(
            Ids.PROGRESS_MODAL,
            _modal_values(option, "amber", HOSTILE),
            private_metadata=view["private_metadata"],
        ),
    )
    assert status == 200
    seen.append(("progress form answer", json.loads(body) if body else {}))
    reminders = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if str(c.args.get("text", "")).startswith(("Reminder:", "Overdue:"))
    ]
    pressed = (Ids.REMINDER_SNOOZE, Ids.REMINDER_DONE)
    for action_id, reminder in zip(pressed, reminders[:2], strict=True):
        actions = next(b for b in reminder.args["blocks"] if b["type"] == "actions")
        button = next(e for e in actions["elements"] if e["action_id"] == action_id)
        status, _ = post(
            slack_http,
            block_action(
                action_id,
                button["value"],
                channel_id="C0PARTNER",
                message_ts="1700000000.000100",
                response_url=fake_slack.response_url(),
            ),
        )
        assert status == 200
    fake_slack.wait_for("chat.update", 2, timeout=10)
    actions = next(b for b in reminders[2].args["blocks"] if b["type"] == "actions")
    done = next(e for e in actions["elements"] if e["action_id"] == Ids.REMINDER_DONE)
    status, _ = post(
        slack_http,
        block_action(
            Ids.REMINDER_DONE,
            done["value"],
            user_id="U0NOBODY",
            channel_id="C0PARTNER",
            message_ts="1700000000.000200",
            response_url=fake_slack.response_url(),
        ),
    )
    assert status == 200
    refusal = fake_slack.wait_for("response_url", timeout=10)
    assert any("Only the owners of" in str(c.args) for c in refusal), refusal
    for call in fake_slack.calls:
        seen.append((call.method, call.args))
    methods = {call.method for call in fake_slack.calls}
    assert {"chat.postMessage", "views.publish"} <= methods
    posted = " ".join(str(c.args.get("text")) for c in fake_slack.calls_to("chat.postMessage"))
    kinds = ("Overdue:", "Reminder:", "Progress check:", "Please set the date", "digest")
    for kind in (*kinds, "Safeguarding referral SG-", "A safeguarding referral"):
        assert kind in posted, kind
    assert "could not" in posted or "message to" in posted  # a delivery-failure notice
    blocks = json.dumps([c.args.get("blocks") for c in fake_slack.calls_to("chat.postMessage")])
    assert "/csp owner &lt;objective&gt; @person" in blocks  # the hint, shown literally
    problems = [f"{where}: {p}" for where, payload in seen for p in unescaped(payload)]
    assert not problems, "\n".join(problems)


def test_referral_messages_and_views_show_hostile_text_literally(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.listeners
    import handlers.referrals
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    app = build_app(ctx, process_before_response=True)
    status, body = send(
        app, view_submission(Ids.REFERRAL_MODAL, good_values(HOSTILE), user_id="UMEMBER")
    )
    assert status == 200
    reference = "SG-2026-0001"
    send(app, block_action(Ids.REFERRAL_VIEW, reference, user_id="ULEAD", channel_id="C0SAFE"))
    send(
        app,
        block_action(
            Ids.REFERRAL_ACK, reference, user_id="ULEAD", channel_id=None, view=in_modal()
        ),
    )
    assert fake_slack.calls_to("views.open") and fake_slack.calls_to("chat.postMessage")
    seen = [("submission answer", json.loads(body))]
    seen += [(call.method, call.args) for call in fake_slack.calls]
    problems = [f"{where}: {p}" for where, payload in seen for p in unescaped(payload)]
    assert not problems, "\n".join(problems)
