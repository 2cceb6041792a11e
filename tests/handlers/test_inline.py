"""Listeners answered in their ack run in the request's own thread (handlers.inline)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from slack_bolt import Ack
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.context import AppContext
from handlers import commands
from handlers.app import build_app, make_client
from handlers.commands import answered_in_ack
from handlers.inline import CspApp, InlineRunner, in_ack
from store.db import session_scope
from store.models import ProgressEntry
from tests.fakes.slack import FakeSlack, signed_request, slash_command


def _request(text: str, command: str = "/csp", user: str = "UADMIN") -> BoltRequest:
    headers, raw = signed_request(slash_command(text, command=command, user_id=user))
    return BoltRequest(body=raw, headers={k.lower(): [v] for k, v in headers.items()})


def test_a_marked_listener_runs_in_the_requests_thread_for_what_it_accepts(
    fake_slack: FakeSlack,
) -> None:
    app = CspApp(
        client=WebClient(base_url=fake_slack.base_url, token="xoxb-test"),
        signing_secret="test-secret",
        token_verification_enabled=False,
        request_verification_enabled=False,
    )
    ran_in: list[str] = []

    @app.command("/x")
    @in_ack(lambda body: body.get("text") == "here")
    def listener(ack: Ack, command: dict[str, Any]) -> None:
        ran_in.append(threading.current_thread().name)
        ack(text=f"answered {command['text']}")

    for text in ("here", "elsewhere"):
        _, raw = signed_request(slash_command(text, command="/x"))
        response = app.dispatch(BoltRequest(body=raw, headers={}))
        assert response.status == 200
        assert response.body == f"answered {text}"
    here = threading.current_thread().name
    assert ran_in[0] == here
    assert ran_in[1] != here  # not accepted: on Bolt's executor, as before


def test_the_app_keeps_its_error_handler_on_the_runner_that_runs_listeners_here(
    seeded_ctx: AppContext,
) -> None:
    # Bolt sets the app's error handler on its runner after the runner is made; the
    # listeners run here must reach it (a usage error answered, not a 500).
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    assert isinstance(app.listener_runner, InlineRunner)
    response = app.dispatch(_request("meetings next week"))
    assert response.status == 200
    reply = json.loads(response.body)
    assert "takes nothing after it" in reply["text"]
    assert "Traceback" not in response.body


@pytest.mark.parametrize(
    ("text", "here"),
    [
        ("progress dhr green Panel booked", True),
        ("progress prevent done", True),
        ("due this week", True),
        ("help", True),
        ("", True),
        ("plan", True),
        ("meetings next week", True),  # a usage error: answered in the ack
        ("progress", False),  # the form
        ("progress dhr", False),  # may be the form, which only the plan can tell
        ("refer", False),
        ("setup", False),
        ("report q3", False),
    ],
)
def test_which_commands_are_answered_in_their_ack(text: str, here: bool) -> None:
    assert answered_in_ack({"text": text}) is here


def test_typed_commands_run_here_and_forms_on_the_executor(
    seeded_ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran_in: dict[str, str] = {}
    real = commands.dispatch

    def watched(parsed: Any, unit: Any, **kwargs: Any) -> Any:
        ran_in[type(parsed).__name__] = threading.current_thread().name
        return real(parsed, unit, **kwargs)

    monkeypatch.setattr(commands, "dispatch", watched)
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    for text in ("progress dhr amber Panel booked & <b>ok</b>", "due", "refer"):
        response = app.dispatch(_request(text))
        assert response.status == 200, response.body
    here = threading.current_thread().name
    assert ran_in["Progress"] == here
    assert ran_in["Due"] == here
    assert ran_in["Refer"] != here  # acks, then opens the form: Slack has its answer first
    deadline = time.monotonic() + 5
    while not fake_slack.calls_to("views.open") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_slack.calls_to("views.open")  # the form did open, after the answer


def test_an_update_answered_here_is_saved_once(seeded_ctx: AppContext) -> None:
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    for _ in range(2):  # typed again within the minute: the same request
        response = app.dispatch(_request("progress dhr green Inline & <ok>"))
        assert response.status == 200
        assert "Inline &amp; &lt;ok&gt;" in json.dumps(json.loads(response.body)["blocks"])
    with session_scope(seeded_ctx.sessions) as session:
        saved = session.scalar(
            select(func.count())
            .select_from(ProgressEntry)
            .where(ProgressEntry.note == "Inline & <ok>")
        )
    assert saved == 1
