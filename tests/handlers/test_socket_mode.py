"""Socket Mode against a local endpoint that speaks Slack's protocol: acks within 3 s,
a dead peer noticed and the link re-opened within 15 s, a redelivered envelope applied
once, and ``link_disabled`` stopping ``csp-bot run``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.context import AppContext
from bot.settings import Settings
from handlers.socket_mode import SeenEnvelopes, socket_mode_handler
from store.db import session_scope
from store.models import ProgressEntry
from tests.fakes.slack import FakeSlack, slash_command
from tests.fakes.socket_mode import LocalSocketMode

CLI = (sys.executable, "-c", "from handlers.cli.main import main; main()")


@pytest.fixture
def endpoint(fake_slack: FakeSlack) -> Iterator[LocalSocketMode]:
    with LocalSocketMode(fake_slack) as local:
        yield local


@pytest.fixture
def connected(seeded_ctx: AppContext, endpoint: LocalSocketMode) -> Iterator[Any]:
    """The bot's Socket Mode handler (as `csp-bot run` builds it), connected."""
    from handlers.app import build_app, make_client

    client = make_client(seeded_ctx.settings)
    handler = socket_mode_handler(build_app(seeded_ctx, client=client), "xapp-test")
    handler.connect()
    endpoint.wait_sessions(1, timeout=5)
    try:
        yield handler
    finally:
        handler.close()


def _entries(ctx: AppContext) -> int:
    with session_scope(ctx.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(ProgressEntry)) or 0)


def test_a_slash_command_is_acked_within_3_seconds(
    connected: Any, endpoint: LocalSocketMode
) -> None:
    sent = time.monotonic()
    envelope_id = endpoint.send_envelope(slash_command("help"))
    (ack,) = endpoint.wait_ack(envelope_id, timeout=3)
    assert ack.at - sent < 3
    assert "/csp progress" in str(ack.message.get("payload"))


@pytest.mark.parametrize("how", ["drop", "vanish"])
def test_a_dead_peer_is_noticed_and_the_link_reopened_within_15_seconds(
    connected: Any, endpoint: LocalSocketMode, fake_slack: FakeSlack, how: str
) -> None:
    time.sleep(0.5)  # the link is up and quiet
    gone = time.monotonic()
    getattr(endpoint, how)()  # no close frame either way
    second = endpoint.wait_sessions(2, timeout=15)
    assert second.opened_at - gone < 15
    assert len(fake_slack.calls_to("apps.connections.open")) >= 2  # a fresh URL
    envelope_id = endpoint.send_envelope(slash_command("help"))
    (ack,) = endpoint.wait_ack(envelope_id, timeout=3)
    assert ack.session == second.number


def test_refresh_requested_moves_to_a_new_link(connected: Any, endpoint: LocalSocketMode) -> None:
    asked = time.monotonic()
    endpoint.disconnect("refresh_requested")  # Slack does this every few hours
    second = endpoint.wait_sessions(2, timeout=5)
    assert second.opened_at - asked < 5
    envelope_id = endpoint.send_envelope(slash_command("help"))
    (ack,) = endpoint.wait_ack(envelope_id, timeout=3)
    assert ack.session == second.number


def test_a_redelivered_envelope_is_applied_once(
    connected: Any, endpoint: LocalSocketMode, seeded_ctx: AppContext
) -> None:
    before = _entries(seeded_ctx)
    body = slash_command("progress dhr amber Panel booked")
    envelope_id = endpoint.send_envelope(body)
    endpoint.send_envelope(body, envelope_id=envelope_id)  # at once, while in flight
    endpoint.wait_ack(envelope_id, timeout=3)
    time.sleep(0.5)  # both deliveries are through
    # Around a reconnect Slack delivers it again on the new link.
    endpoint.drop()
    endpoint.wait_sessions(2, timeout=15)
    seen = len(endpoint.wait_ack(envelope_id, timeout=0))
    endpoint.send_envelope(body, envelope_id=envelope_id)
    acks = endpoint.wait_ack(envelope_id, timeout=3, count=seen + 1)
    assert acks[-1].session == 1  # answered again on the new link, with the first ack
    assert acks[-1].message.get("payload") == acks[0].message.get("payload")
    time.sleep(0.5)
    assert _entries(seeded_ctx) == before + 1
    # A different envelope with other words is a new request (the same words from the
    # same person within the minute are a retype, stored once: tests/handlers/test_repeats.py).
    other = endpoint.send_envelope(slash_command("progress dhr amber Panel confirmed"))
    endpoint.wait_ack(other, timeout=3)
    assert _entries(seeded_ctx) == before + 2


def test_the_envelope_memory_is_bounded() -> None:
    seen = SeenEnvelopes(limit=3)
    for n in range(10):
        assert seen.claim(f"e{n}") == (True, None)
        seen.settle(f"e{n}", {"envelope_id": f"e{n}"})
    assert len(seen) == 3
    assert seen.claim("e9") == (False, {"envelope_id": "e9"})
    assert seen.claim("e0") == (True, None)  # long forgotten: Slack stopped resending


def test_link_disabled_stops_the_bot_with_one_sentence(
    settings: Settings, endpoint: LocalSocketMode, fake_slack: FakeSlack
) -> None:
    proc = subprocess.Popen(
        [*CLI, "run", "--no-scheduler"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SLACK_APP_TOKEN": "xapp-test", "CSP_LOG_LEVEL": "WARNING"},
    )
    try:
        endpoint.wait_sessions(1, timeout=30)
        endpoint.disconnect("link_disabled")
        try:
            _, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("csp-bot run kept going after link_disabled")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert "Socket Mode" in last and "switched off" in last, stderr
    assert len(endpoint.sessions) == 1  # it did not loop reconnecting
