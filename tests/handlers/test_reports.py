"""`/csp report`: an admin gets the pack in a direct message; a member is refused kindly."""

from __future__ import annotations

import io
import json
import time

import pytest
from docx import Document
from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.context import AppContext
from tests.bot.reports.planting import MARKER, plant
from tests.fakes.slack import FakeSlack, signed_request, slash_command


def _app(ctx: AppContext, *, before_response: bool = True) -> App:
    from handlers.app import build_app

    return build_app(ctx, process_before_response=before_response)


def send(app: App, fake: FakeSlack, text: str, user: str = "UADMIN") -> str:
    body = slash_command(text, user_id=user, response_url=fake.response_url())
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    assert resp.status == 200
    return resp.body


def _told(fake: FakeSlack) -> list[str]:
    return [str(c.args.get("text", "")) for c in fake.calls_to("response_url")]


def test_an_admin_gets_one_file_in_their_direct_message(
    seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    plant(seeded_ctx)
    app = _app(seeded_ctx, before_response=False)  # as in production: the ack goes first
    answer = send(app, fake_slack, "report 2026Q3")
    answered = time.monotonic()
    assert "Making the scrutiny pack for Q3 2026/27 (October to December 2026)" in answer
    (done,) = fake_slack.wait_for("response_url", timeout=30)
    (upload,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert upload.at > answered  # the pack was made after Slack had its answer
    (shared,) = fake_slack.shared_files("DUADMIN")
    assert [c.args["users"] for c in fake_slack.calls_to("conversations.open")] == ["UADMIN"]
    assert shared["name"] == "csp-scrutiny-pack-2026Q3.docx"
    doc = Document(io.BytesIO(shared["data"]))
    assert doc.paragraphs[0].text == "Maldon Community Safety Partnership"
    assert MARKER.encode() not in shared["data"]
    text = str(done.args["text"])
    assert "is in your direct messages with me" in text
    assert "csp-scrutiny-pack-2026Q3.docx" in text
    assert not any(MARKER in json.dumps(c.args, default=str) for c in fake_slack.calls)


def test_with_no_quarter_it_is_the_current_one(
    seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    answer = send(_app(seeded_ctx), fake_slack, "report")
    assert "Q3 2026/27" in answer
    (shared,) = fake_slack.shared_files("DUADMIN")
    assert shared["name"] == "csp-scrutiny-pack-2026Q3.docx"


def test_a_member_is_refused_kindly(seeded_ctx: AppContext, fake_slack: FakeSlack) -> None:
    answer = send(_app(seeded_ctx), fake_slack, "report 2026Q3", user="UMEMBER")
    assert "Only partnership admins can make the scrutiny pack" in answer
    assert "Ask an admin" in answer
    assert not fake_slack.calls_to("files.getUploadURLExternal")
    assert not fake_slack.shared_files("DUMEMBER")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("report autumn", "is not a quarter"),
        ("report 2026Q9", "like 2026Q3"),
        ("report 2027Q2", "has not started yet"),
    ],
)
def test_a_bad_quarter_gets_the_usage(
    seeded_ctx: AppContext, fake_slack: FakeSlack, typed: str, says: str
) -> None:
    answer = send(_app(seeded_ctx), fake_slack, typed)
    assert says in answer and "/csp report [quarter]" in answer
    assert not fake_slack.calls_to("files.getUploadURLExternal")


def test_slack_refusing_the_upload_says_so_and_what_to_do(
    seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("files.getUploadURLExternal", error="missing_scope")
    send(_app(seeded_ctx), fake_slack, "report 2026Q3")
    (text,) = _told(fake_slack)
    assert "could not send it to you" in text and "`missing_scope`" in text
    assert "files:write" in text and "/csp report 2026Q3" in text
    assert not fake_slack.shared_files("DUADMIN")


def test_a_lost_upload_says_so_and_what_to_do(
    seeded_ctx: AppContext, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("file_upload", status=500)
    send(_app(seeded_ctx), fake_slack, "report 2026Q3")
    (text,) = _told(fake_slack)
    assert "could not reach Slack" in text and "try again" in text
    assert "csp-bot report --quarter 2026Q3" in text
    assert not fake_slack.shared_files("DUADMIN")
