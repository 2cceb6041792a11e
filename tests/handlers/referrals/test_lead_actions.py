"""A lead acts from `/csp referrals` and from the View modal, and is told each time
what happened and what is next; admins who are not leads are told how to proceed."""

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
from bot.plan.members import Actor, ensure_partnership
from bot.referrals.access import NotALead
from bot.referrals.counts import home_referrals
from bot.referrals.reading import list_open
from store.db import session_scope
from store.models import AuditRecord, Referral, Role
from tests.fakes.slack import FakeSlack, block_action, signed_request, view_submission
from tests.handlers.referrals.test_leaks import MARKER, good_values, values

REFERENCE = "SG-2026-0001"
NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


@pytest.fixture
def app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(ctx, process_before_response=True)


def send(app: App, body: dict[str, str]) -> tuple[int, str]:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status, resp.body


def refer(app: App) -> None:
    status, _ = send(app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER"))
    assert status == 200


def audit_actions(ctx: AppContext) -> list[tuple[str, str]]:
    with session_scope(ctx.sessions) as s:
        rows = s.execute(select(AuditRecord.action, AuditRecord.actor).order_by(AuditRecord.id))
        return [(a, b) for a, b in rows]


def in_modal(view_id: str = "VDETAIL") -> dict[str, Any]:
    return {"id": view_id, "type": "modal", "callback_id": str(Ids.REFERRAL_ACTION_MODAL)}


def buttons(view: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def test_acknowledge_from_the_list_confirms_and_updates_the_alert(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    refer(app)
    url = fake_slack.response_url()
    status, _ = send(
        app, block_action(Ids.REFERRAL_ACK, REFERENCE, user_id="ULEAD", response_url=url)
    )
    assert status == 200
    (reply,) = fake_slack.calls_to("response_url")
    assert reply.args["response_type"] == "ephemeral"
    assert f"You acknowledged {REFERENCE}" in reply.args["text"]
    assert "Next: assign it to a lead" in reply.args["text"]
    assert "Acknowledged by <@ULEAD>" in json.dumps(fake_slack.calls_to("chat.update")[-1].args)
    assert ("acknowledge", "ULEAD") in audit_actions(ctx)


def test_the_view_modal_acknowledges_and_redraws_with_a_confirmation(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    refer(app)
    send(app, block_action(Ids.REFERRAL_VIEW, REFERENCE, user_id="ULEAD", channel_id="C0SAFE"))
    (opened,) = fake_slack.calls_to("views.open")
    assert buttons(opened.args["view"]) == [
        "Acknowledge",
        "Assign",
        "Refer on",
        "Add note",
        "Close referral",
    ]
    assert not [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]

    send(
        app,
        block_action(
            Ids.REFERRAL_ACK, REFERENCE, user_id="ULEAD", channel_id=None, view=in_modal()
        ),
    )
    (updated,) = fake_slack.calls_to("views.update")
    assert updated.args["view_id"] == "VDETAIL"
    first = updated.args["view"]["blocks"][0]["text"]["text"]
    assert f"You acknowledged {REFERENCE}" in first
    assert "Acknowledge" not in buttons(updated.args["view"])  # done: no longer offered
    assert "Acknowledged by <@ULEAD>" in json.dumps(fake_slack.calls_to("chat.update")[-1].args)
    assert [a for a in audit_actions(ctx) if a[1] == "ULEAD"] == [
        ("view", "ULEAD"),
        ("acknowledge", "ULEAD"),
        ("view", "ULEAD"),  # the redrawn view shows the contents again
    ]


def test_add_note_from_the_view_pushes_a_form_and_confirms(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    refer(app)
    send(
        app,
        block_action(
            Ids.REFERRAL_NOTE_OPEN, REFERENCE, user_id="ULEAD", channel_id=None, view=in_modal()
        ),
    )
    (pushed,) = fake_slack.calls_to("views.push")
    view = pushed.args["view"]
    assert view["callback_id"] == Ids.REFERRAL_ACTION_MODAL
    assert view["private_metadata"] == REFERENCE
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [Ids.REFERRAL_NOTE]

    status, body = send(
        app,
        view_submission(
            Ids.REFERRAL_ACTION_MODAL,
            values(**{Ids.REFERRAL_NOTE: f"{MARKER} called the school"}),
            user_id="ULEAD",
            private_metadata=REFERENCE,
            view_id="VNOTE",
        ),
    )
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    text = json.dumps(answer["view"])
    assert f"Your case note was added to {REFERENCE}" in text and "Next:" in text
    assert MARKER not in text
    assert ("note", "ULEAD") in audit_actions(ctx)

    # Refer on and close go the same way, each confirmed and each updating the alert.
    for step, block, value, said in (
        (Ids.REFERRAL_REFER_ON_OPEN, Ids.REFERRAL_REFER_ON, "police", "referred on to Police"),
        (Ids.REFERRAL_CLOSE_OPEN, Ids.REFERRAL_OUTCOME, "Police took it on", "is closed"),
    ):
        send(app, block_action(step, REFERENCE, user_id="ULEAD", channel_id=None, view=in_modal()))
        status, body = send(
            app,
            view_submission(
                Ids.REFERRAL_ACTION_MODAL,
                values(**{block: value}),
                user_id="ULEAD",
                private_metadata=REFERENCE,
                view_id=f"V{step}",
            ),
        )
        assert status == 200
        assert said in json.dumps(json.loads(body)["view"])
    assert len(fake_slack.calls_to("views.push")) == 3
    assert "Closed" in json.dumps(fake_slack.calls_to("chat.update")[-1].args)
    with session_scope(ctx.sessions) as s:
        assert s.scalars(select(Referral.status)).one() == "closed"


def test_a_member_pressing_a_view_button_is_refused_and_audited(
    app: App, ctx: AppContext, fake_slack: FakeSlack
) -> None:
    refer(app)
    url = fake_slack.response_url()
    send(
        app,
        block_action(Ids.REFERRAL_CLOSE_OPEN, REFERENCE, user_id="UMEMBER", response_url=url),
    )
    assert not fake_slack.calls_to("views.push") and not fake_slack.calls_to("views.open")
    (reply,) = fake_slack.calls_to("response_url")
    assert "not a safeguarding lead" in reply.args["text"]
    assert ("denied_close", "UMEMBER") in audit_actions(ctx)


def test_form_errors_all_at_once_and_plain(app: App, fake_slack: FakeSlack) -> None:
    state = good_values()
    state[str(Ids.REFERRAL_DOB)] = {
        str(Ids.REFERRAL_DOB): {"type": "datepicker", "selected_date": "2027-01-01"}
    }
    del state[str(Ids.REFERRAL_CONSENT_REASON)]
    status, body = send(app, view_submission(Ids.REFERRAL_MODAL, state, user_id="UMEMBER"))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {str(Ids.REFERRAL_DOB), str(Ids.REFERRAL_CONSENT_REASON)}
    for error in answer["errors"].values():
        assert "<@" not in error and "`" not in error and "*" not in error


def test_an_admin_who_is_not_a_lead_is_told_how_to_proceed(ctx: AppContext) -> None:
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        admin = Actor("UADMIN", Role.ADMIN, None)
        with pytest.raises(NotALead) as err:
            list_open(s, p, admin, now=NOW)
        member = Actor("UMEMBER", Role.MEMBER, None)
        with pytest.raises(NotALead) as plain:
            list_open(s, p, member, now=NOW)
    text = str(err.value)
    assert "`/csp role @person lead`" in text
    assert "csp-bot referrals export REF --as UADMIN" in text
    assert "subject access request" in text and "Access to referrals is logged." in text
    assert "export" not in str(plain.value)  # members are not offered exports


def test_home_referrals_are_for_leads_only(app: App, ctx: AppContext) -> None:
    refer(app)
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        lead = home_referrals(
            s, p, Actor("ULEAD", Role.LEAD, None), now=NOW + dt.timedelta(hours=1)
        )
        assert home_referrals(s, p, Actor("UADMIN", Role.ADMIN, None), now=NOW) is None
    assert lead is not None
    assert (lead.open_total, lead.awaiting, lead.overdue) == (1, 1, 1)  # immediate: 30 min
    assert [w.reference for w in lead.oldest_waiting] == [REFERENCE]
