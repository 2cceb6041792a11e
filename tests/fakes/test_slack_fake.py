"""The fake Slack Web API itself: answers, recording, failures on demand."""

from __future__ import annotations

import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select

from bot.context import AppContext
from store.db import session_scope
from store.models import Objective
from tests.fakes.slack import FakeSlack


def _client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.base_url, token="xoxb-test", retry_handlers=[])


def test_post_history_update_and_metadata(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    first = client.chat_postMessage(
        channel="C1",
        text="one",
        metadata={"event_type": "csp_delivery", "event_payload": {"key": "k1"}},
    )
    second = client.chat_postMessage(channel="C1", text="two", blocks=[{"type": "divider"}])
    assert float(second["ts"]) > float(first["ts"])
    client.chat_update(channel="C1", ts=first["ts"], text="one, edited")
    history = client.conversations_history(channel="C1", include_all_metadata=True, limit=10)
    assert [m["text"] for m in history["messages"]] == ["two", "one, edited"]
    assert history["messages"][1]["metadata"]["event_payload"] == {"key": "k1"}
    plain = client.conversations_history(channel="C1")
    assert "metadata" not in plain["messages"][1]
    newer = client.conversations_history(channel="C1", oldest=first["ts"])
    assert [m["text"] for m in newer["messages"]] == ["two"]
    assert fake_slack.messages("C1")[1]["blocks"] == [{"type": "divider"}]
    assert fake_slack.calls_to("chat.postMessage")[0].token == "xoxb-test"


def test_other_methods(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    assert client.conversations_open(users="U9")["channel"]["id"] == "DU9"
    assert client.auth_test()["user_id"] == "UBOT"
    fake_slack.set_user("U9", real_name="Pat Smith")
    assert client.users_info(user="U9")["user"]["real_name"] == "Pat Smith"
    opened = client.views_open(trigger_id="t", view={"type": "modal", "blocks": []})
    updated = client.views_update(view_id=opened["view"]["id"], view={"type": "modal"})
    assert updated["view"]["id"] == opened["view"]["id"]
    client.views_publish(user_id="U9", view={"type": "home", "blocks": []})
    assert fake_slack.home_views["U9"]["type"] == "home"
    assert client.chat_postEphemeral(channel="C1", user="U9", text="hi")["ok"]
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C1", ts="1.0", text="x")


def test_response_url_is_recorded(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    WebhookClient(url).send(text="hello", response_type="ephemeral")
    (call,) = fake_slack.calls_to("response_url")
    assert call.args["text"] == "hello"


def test_fail_next_variants(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    fake_slack.fail_next("chat.postMessage", error="invalid_auth")
    with pytest.raises(SlackApiError) as auth:
        client.chat_postMessage(channel="C1", text="x")
    assert auth.value.response["error"] == "invalid_auth"
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["retry-after"] in ("7", ["7"])
    fake_slack.fail_next("chat.postMessage", 2, status=500)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C1", text="x")
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 5
    assert len(fake_slack.calls_to("chat.postMessage", ok=True)) == 1
    assert len(fake_slack.messages("C1")) == 1


def test_outage_window_and_channel_rate(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    fake_slack.fail_for("chat.postMessage", 0.3, status=503)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x")
    time.sleep(0.35)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    fake_slack.per_channel_interval = 0.5
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="too fast")
    assert limited.value.response.status_code == 429
    assert client.chat_postMessage(channel="C2", text="other channel")["ok"]


def test_wait_for_and_reset(fake_slack: FakeSlack) -> None:
    with pytest.raises(AssertionError):
        fake_slack.wait_for("chat.postMessage", timeout=0.05)
    _client(fake_slack).chat_postMessage(channel="C1", text="x")
    assert len(fake_slack.wait_for("chat.postMessage")) == 1
    fake_slack.reset()
    assert fake_slack.calls == []
    assert fake_slack.messages("C1") == []


def test_stop_frees_the_port() -> None:
    fake = FakeSlack().start()
    url = fake.base_url
    fake.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "auth.test", timeout=1)


def test_seeded_ctx_has_the_plan(seeded_ctx: AppContext) -> None:
    with session_scope(seeded_ctx.sessions) as session:
        titles = list(session.scalars(select(Objective.title)))
    assert "Domestic Homicide Reviews" in titles


def test_ctx_is_empty(ctx: AppContext) -> None:
    with session_scope(ctx.sessions) as session:
        assert list(session.scalars(select(Objective.id))) == []


def test_files_upload_v2_shares_the_file_in_the_channel(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    done = client.files_upload_v2(
        channel="DU1", file=b"pack bytes", filename="pack.docx", initial_comment="Here"
    )
    assert done["file"]["name"] == "pack.docx" and done["file"]["permalink"]
    (shared,) = fake_slack.shared_files("DU1")
    assert shared["data"] == b"pack bytes" and shared["initial_comment"] == "Here"
    (message,) = fake_slack.messages("DU1")
    assert message["files"] == [{"id": shared["id"], "name": "pack.docx"}]
    methods = [c.method for c in fake_slack.calls]
    assert methods == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]


def test_file_uploads_can_fail_on_demand(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    fake_slack.fail_next("files.completeUploadExternal", error="not_in_channel")
    with pytest.raises(SlackApiError):
        client.files_upload_v2(channel="C1", file=b"x", filename="x.docx")
    fake_slack.fail_next("file_upload", status=500)
    with pytest.raises(OSError):
        client.files_upload_v2(channel="C1", file=b"x", filename="x.docx")
    assert not fake_slack.shared_files("C1")
