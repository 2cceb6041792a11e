"""Only our workspace: requests naming another team, enterprise or app are refused,
logged without their contents, and store nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from store.db import session_scope
from store.models import AuditRecord, ProgressEntry
from tests.fakes.slack import (
    FakeSlack,
    block_action,
    signed_request,
    slash_command,
    view_submission,
)
from tests.handlers.referrals.test_leaks import good_values

APP_TOKEN = "xapp-1-A0CSP-1234-abcdef"
NOTE = "Stranger's confidential note"


@pytest.fixture
def app(seeded_ctx: AppContext, fake_slack: FakeSlack) -> App:
    """The app as `csp-bot run` builds it: the workspace pinned from auth.test at start."""
    from handlers.app import build_app, make_client
    from handlers.workspace import Workspace

    settings = seeded_ctx.settings.model_copy(update={"slack_app_token": SecretStr(APP_TOKEN)})
    client = make_client(settings)
    pinned = Workspace.from_auth_test(client.auth_test().data, settings)  # type: ignore[arg-type]
    assert (pinned.team_id, pinned.enterprise_id, pinned.app_id) == ("T0CSP", None, "A0CSP")
    fake_slack.reset()
    return build_app(seeded_ctx, client=client, process_before_response=True, workspace=pinned)


def send(app: App, body: dict[str, str]) -> tuple[int, str]:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status, resp.body


def progress_notes(ctx: AppContext) -> list[str]:
    with session_scope(ctx.sessions) as s:
        return [n for (n,) in s.execute(select(ProgressEntry.note))]


def stranger(body: dict[str, str], **fields: str) -> dict[str, str]:
    """``body`` (a form body, maybe with a JSON payload) carrying other ids."""
    if "payload" not in body:
        return {**body, **fields}
    payload: dict[str, Any] = json.loads(body["payload"])
    if "team_id" in fields:
        payload["team"] = {"id": fields["team_id"], "domain": "elsewhere"}
        payload["user"]["team_id"] = fields["team_id"]
    if "enterprise_id" in fields:
        payload["enterprise"] = {"id": fields["enterprise_id"]}
    if "api_app_id" in fields:
        payload["api_app_id"] = fields["api_app_id"]
    return {"payload": json.dumps(payload)}


def test_our_own_progress_is_still_stored(app: App, seeded_ctx: AppContext) -> None:
    status, body = send(app, slash_command("progress dhr amber Our own note", user_id="U0SAM"))
    assert status == 200 and "Amber" in body
    assert "Our own note" in progress_notes(seeded_ctx)


@pytest.mark.parametrize(
    "fields",
    [{"team_id": "T0OTHER"}, {"enterprise_id": "E0OTHER"}, {"api_app_id": "A0OTHER"}],
    ids=["team", "enterprise", "app"],
)
def test_a_strangers_progress_is_refused_and_nothing_stored(
    app: App,
    seeded_ctx: AppContext,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)
    before = progress_notes(seeded_ctx)
    body = stranger(slash_command(f"progress dhr red {NOTE}", user_id="U0STRANGER"), **fields)
    status, reply = send(app, body)
    assert status == 200
    text = json.loads(reply)["text"]
    assert "only the Slack workspace" in text and "nothing was done" in text
    assert progress_notes(seeded_ctx) == before
    # Nothing posted or opened (Bolt's own cached auth.test aside).
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []
    refused = [r for r in caplog.records if "another workspace" in r.getMessage()]
    assert len(refused) == 1
    assert all(NOTE not in r.getMessage() and "dhr" not in r.getMessage() for r in caplog.records)


def test_a_lead_id_from_another_team_cannot_open_a_referral(
    app: App, seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    status, _ = send(app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER"))
    assert status == 200
    with session_scope(seeded_ctx.sessions) as s:
        audited = s.execute(select(AuditRecord.id)).all()
    fake_slack.reset()
    click = block_action(Ids.REFERRAL_VIEW, "SG-2026-0001", user_id="ULEAD", channel_id="C0SAFE")
    status, _ = send(app, stranger(click, team_id="T0OTHER"))
    assert status == 200
    assert fake_slack.calls_to("views.open") == [] and fake_slack.calls_to("views.push") == []
    with session_scope(seeded_ctx.sessions) as s:
        assert s.execute(select(AuditRecord.id)).all() == audited
    # Nor with our team on the request and the view but the person's own team another.
    payload = json.loads(click["payload"])
    payload["user"]["team_id"] = "T0OTHER"
    payload["view"] = {"id": "V1", "app_installed_team_id": "T0CSP", "team_id": "T0CSP"}
    status, _ = send(app, {"payload": json.dumps(payload)})
    assert status == 200 and fake_slack.calls_to("views.open") == []
    # The same click from our own team opens it.
    status, _ = send(app, click)
    assert fake_slack.wait_for("views.open")


def test_the_http_server_refuses_another_team_too(
    slack_http: str, seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    from tests.handlers.test_http import post

    body = stranger(slash_command(f"progress dhr red {NOTE}", user_id="U0STRANGER"), team_id="T9")
    status, reply = post(slack_http, body)
    assert status == 200 and "nothing was done" in reply
    assert NOTE not in json.dumps(progress_notes(seeded_ctx))
