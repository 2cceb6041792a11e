"""A marker typed into a referral must appear nowhere but a lead's modal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import func, select

import handlers.listeners
import handlers.referrals
from bot.context import AppContext
from bot.ids import Ids
from bot.referrals import audit
from store.db import session_scope
from store.models import AuditRecord, Referral
from tests.fakes.slack import FakeSlack, block_action, signed_request, view_submission

MARKER = "Qzmarkerqz"


@pytest.fixture
def app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(ctx, process_before_response=True)


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = {
        name: lg.level
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    old_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in saved:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def send(app: App, body: dict[str, str]) -> tuple[int, str]:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status, resp.body


def values(**fields: Any) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for block, value in fields.items():
        if block in (
            Ids.REFERRAL_GROUP,
            Ids.REFERRAL_CATEGORY,
            Ids.REFERRAL_URGENCY,
            Ids.REFERRAL_CONSENT,
        ):
            action = {"type": "static_select", "selected_option": {"value": value}}
        elif block == Ids.REFERRAL_DOB:
            action = {"type": "datepicker", "selected_date": value}
        else:
            action = {"type": "plain_text_input", "value": value}
        out[str(block)] = {str(block): action}
    return out


def good_values(marker: str = MARKER) -> dict[str, dict[str, dict[str, Any]]]:
    return values(
        **{
            Ids.REFERRAL_GROUP: "child",
            Ids.REFERRAL_CATEGORY: "fgm",
            Ids.REFERRAL_URGENCY: "immediate",
            Ids.REFERRAL_SUBJECT_NAME: f"{marker} Name",
            Ids.REFERRAL_ADDRESS: f"1 {marker} Street",
            Ids.REFERRAL_WHAT: f"{marker} what happened",
            Ids.REFERRAL_HOW_KNOWN: f"{marker} told me",
            Ids.REFERRAL_REFERRER_ROLE: f"{marker} role",
            Ids.REFERRAL_REFERRER_AGENCY: f"{marker} agency",
            Ids.REFERRAL_REFERRER_CONTACT: f"{marker}@example.org",
            Ids.REFERRAL_CONSENT: "refused",
            Ids.REFERRAL_CONSENT_REASON: f"{marker} reason",
            Ids.REFERRAL_ACTIONS_TAKEN: f"{marker} actions",
        }
    )


def test_marker_never_leaks(
    app: App, ctx: AppContext, fake_slack: FakeSlack, debug_logs: io.StringIO
) -> None:
    status, body = send(app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER"))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    reference = "SG-2026-0001"
    assert reference in body and MARKER not in body
    alert = fake_slack.calls_to("chat.postMessage")
    assert {c.args["channel"] for c in alert} == {"C0SAFEGUARD", "DUMEMBER"}
    # Slack retries the same submission: no second referral, alert or receipt.
    send(app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER"))
    assert len(fake_slack.calls_to("chat.postMessage")) == 2

    # A member who is not a lead is refused, and the attempt is audited.
    for action in (Ids.REFERRAL_VIEW, Ids.REFERRAL_ACK, Ids.REFERRAL_ASSIGN):
        send(app, block_action(action, reference, user_id="UMEMBER", channel_id="C0SAFEGUARD"))
    refusals = fake_slack.calls_to("chat.postEphemeral")
    assert len(refusals) == 3
    assert all("not a safeguarding lead" in c.args["text"] for c in refusals)
    assert not fake_slack.calls_to("views.open")

    # The lead acknowledges (alert updated), views (modal), notes and closes.
    send(app, block_action(Ids.REFERRAL_ACK, reference, user_id="ULEAD", channel_id="C0SAFEGUARD"))
    updates = fake_slack.calls_to("chat.update")
    assert updates and "Acknowledged" in json.dumps(updates[-1].args)
    send(
        app,
        block_action(
            Ids.REFERRAL_VIEW,
            reference,
            user_id="ULEAD",
            channel_id="C0SAFEGUARD",
            trigger_id="TLEAD.view",
        ),
    )
    opened = fake_slack.calls_to("views.open")
    assert len(opened) == 1 and MARKER in json.dumps(opened[0].args)
    action_values: dict[str, dict[str, dict[str, Any]]] = {
        str(Ids.REFERRAL_NOTE): {str(Ids.REFERRAL_NOTE): {"value": f"{MARKER} note"}},
        str(Ids.REFERRAL_OUTCOME): {str(Ids.REFERRAL_OUTCOME): {"value": f"{MARKER} outcome"}},
        str(Ids.REFERRAL_REFER_ON): {
            str(Ids.REFERRAL_REFER_ON): {"selected_option": {"value": "police"}}
        },
    }
    status, body = send(
        app,
        view_submission(
            Ids.REFERRAL_ACTION_MODAL,
            action_values,
            user_id="ULEAD",
            private_metadata=reference,
            view_id="V0ACT",
        ),
    )
    assert status == 200 and "errors" not in body
    dms = [
        c.args["text"]
        for c in fake_slack.calls_to("chat.postMessage")
        if c.args["channel"] == "DUMEMBER"
    ]
    assert any("acknowledged" in t for t in dms) and any("closed" in t for t in dms)

    for call in fake_slack.calls:
        if call.method == "views.open" and call.args.get("trigger_id") == "TLEAD.view":
            continue
        assert MARKER not in json.dumps(call.args, ensure_ascii=False), call.method
    assert MARKER not in debug_logs.getvalue()
    assert "Sending a request" not in debug_logs.getvalue() or MARKER not in debug_logs.getvalue()

    with session_scope(ctx.sessions) as s:
        assert audit.verify_chain(s).ok
        actions = s.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
        assert actions.count("denied_view") == 1 and "view" in actions
    ctx.engine.dispose()
    db = ctx.settings.sqlite_path
    assert db is not None
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            assert MARKER.encode() not in path.read_bytes()


def test_field_errors_keep_the_form(app: App, fake_slack: FakeSlack) -> None:
    bad = good_values()
    bad.update(values(**{Ids.REFERRAL_DOB: "2030-01-01", Ids.REFERRAL_WHAT: ""}))
    status, body = send(app, view_submission(Ids.REFERRAL_MODAL, bad, user_id="UMEMBER"))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {str(Ids.REFERRAL_DOB), str(Ids.REFERRAL_WHAT)}
    assert MARKER not in body
    assert not fake_slack.calls_to("chat.postMessage")


NASTY = st.sampled_from(
    [
        "x" * 3000,
        "😀🙈" * 50,
        "שלום עולם \u202e",
        "'); DELETE FROM referral; --",
        '[{"type":"section","text":{"type":"mrkdwn","text":"<!channel>"}}]',
        "<!everyone> <@ULEAD> *b* ```",
        "",
    ]
)
TEXT_BLOCKS = [
    Ids.REFERRAL_SUBJECT_NAME,
    Ids.REFERRAL_WHAT,
    Ids.REFERRAL_HOW_KNOWN,
    Ids.REFERRAL_REFERRER_CONTACT,
    Ids.REFERRAL_CONSENT_REASON,
    Ids.REFERRAL_AGE,
    Ids.REFERRAL_DOB,
    Ids.REFERRAL_CATEGORY,
]


@settings(max_examples=30)
@given(
    drop=st.sets(st.sampled_from(TEXT_BLOCKS)),
    change=st.dictionaries(st.sampled_from(TEXT_BLOCKS), st.one_of(NASTY, st.text(max_size=40))),
    n=st.integers(0, 10**9),
)
def test_fuzzed_submissions_never_fail(
    app: App, ctx: AppContext, drop: set[str], change: dict[str, str], n: int
) -> None:
    vals = good_values("fz")
    for block in drop:
        vals.pop(str(block), None)
    vals.update(values(**change))
    with session_scope(ctx.sessions) as s:
        before = s.scalar(select(func.count(Referral.id)))
    status, body = send(
        app, view_submission(Ids.REFERRAL_MODAL, vals, user_id="UMEMBER", view_id=f"V{n}")
    )
    assert status == 200
    answer = json.loads(body)
    with session_scope(ctx.sessions) as s:
        rows = s.scalars(select(Referral)).all()
    if answer["response_action"] == "errors":
        assert len(rows) == before
    else:
        assert answer["response_action"] == "update"
        assert len(rows) in (before, (before or 0) + 1)
    for row in rows:
        assert all(
            getattr(row, c) is not None
            for c in ("subject_enc", "concern_enc", "referrer_enc", "consent_enc", "actions_enc")
        )
