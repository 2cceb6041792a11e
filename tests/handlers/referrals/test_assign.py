"""The Assign button and the assign modal's submission, through the real Bolt app."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select

import handlers.listeners
import handlers.referrals
from bot.context import AppContext
from bot.ids import Ids
from bot.referrals import audit
from store.db import session_scope
from store.models import AuditRecord, Member, Referral, Role
from tests.fakes.slack import FakeSlack, block_action, signed_request, view_submission
from tests.handlers.referrals.test_leaks import MARKER, good_values

REFERENCE = "SG-2026-0001"


@pytest.fixture
def app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(ctx, process_before_response=True)


def send(app: App, body: dict[str, str]) -> tuple[int, str]:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status, resp.body


def assign(app: App, user_id: str, assignee: str | None, reference: str = REFERENCE) -> Any:
    action: dict[str, Any] = {"type": "users_select", "selected_user": assignee}
    state = {str(Ids.REFERRAL_ASSIGNEE): {str(Ids.REFERRAL_ASSIGNEE): action}}
    status, body = send(
        app,
        view_submission(
            Ids.REFERRAL_ASSIGN_MODAL,
            state,
            user_id=user_id,
            private_metadata=reference,
            view_id=f"VASSIGN{user_id}",
        ),
    )
    assert status == 200
    return json.loads(body) if body else None


def _add_lead(ctx: AppContext, user_id: str) -> None:
    with session_scope(ctx.sessions) as s:
        s.add(
            Member(
                partnership_id=1,
                slack_user_id=user_id,
                role=Role.LEAD,
                created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            )
        )


def test_assign_modal_submission(app: App, ctx: AppContext, fake_slack: FakeSlack) -> None:
    send(app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER"))
    _add_lead(ctx, "ULEAD2")

    # The button opens the modal for a lead only.
    send(app, block_action(Ids.REFERRAL_ASSIGN, REFERENCE, user_id="ULEAD", channel_id="C0SG"))
    opened = fake_slack.calls_to("views.open")
    assert len(opened) == 1
    assert REFERENCE in json.dumps(opened[0].args) and MARKER not in json.dumps(opened[0].args)

    # A member who submits the modal anyway is refused, and it is audited.
    answer = assign(app, "UMEMBER", "ULEAD")
    assert answer["response_action"] == "errors"
    assert "not a safeguarding lead" in answer["errors"][str(Ids.REFERRAL_ASSIGNEE)]
    # Nobody chosen; a member who is not a lead chosen; an unknown reference.
    assert assign(app, "ULEAD", None)["errors"] == {str(Ids.REFERRAL_ASSIGNEE): "Choose a lead."}
    not_lead = assign(app, "ULEAD", "UMEMBER")["errors"][str(Ids.REFERRAL_ASSIGNEE)]
    # Modal errors are plain text in Slack: no raw mention or mrkdwn markup.
    assert not_lead.startswith("That person is not a safeguarding lead"), not_lead
    assert "<@" not in not_lead and "`" not in not_lead
    missing = assign(app, "ULEAD", "ULEAD2", reference="SG-2026-0099")
    assert "no referral with that reference" in missing["errors"][str(Ids.REFERRAL_ASSIGNEE)]
    assert all(len(e) <= 150 for e in missing["errors"].values())
    with session_scope(ctx.sessions) as s:
        row = s.scalars(select(Referral)).one()
        assert row.assigned_to is None and row.status == "open"

    dms_before = len(fake_slack.calls_to("chat.postMessage"))
    done = assign(app, "ULEAD", "ULEAD2")  # turns into a confirmation
    assert done["response_action"] == "update"
    assert "is now assigned to <@ULEAD2>" in json.dumps(done["view"])
    with session_scope(ctx.sessions) as s:
        row = s.scalars(select(Referral)).one()
        assert (row.assigned_to, row.status, row.acknowledged_by) == (
            "ULEAD2",
            "assigned",
            "ULEAD",
        )
        records = s.execute(
            select(AuditRecord.action, AuditRecord.actor, AuditRecord.detail).order_by(
                AuditRecord.id
            )
        ).all()
        assert audit.verify_chain(s).ok
    assert [(r.action, r.actor) for r in records] == [
        ("create", "UMEMBER"),
        ("denied_assign", "UMEMBER"),
        ("assign", "ULEAD"),
    ]
    assert records[-1].detail == "to=ULEAD2"
    new_dms = fake_slack.calls_to("chat.postMessage")[dms_before:]
    assert {c.args["channel"] for c in new_dms} == {"DUMEMBER", "DULEAD2"}
    updated = fake_slack.calls_to("chat.update")
    assert updated and "Assigned to <@ULEAD2>" in json.dumps(updated[-1].args)

    # Submitting the same choice again (a double click) changes and announces nothing.
    again = assign(app, "ULEAD", "ULEAD2")
    assert "already assigned" in json.dumps(again["view"])
    assert len(fake_slack.calls_to("chat.postMessage")) == dms_before + 2
    for call in fake_slack.calls:
        assert MARKER not in json.dumps(call.args, ensure_ascii=False), call.method
