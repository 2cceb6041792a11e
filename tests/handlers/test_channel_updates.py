"""Progress updates reach the channel via the outbox, coalesced, no listener waiting on Slack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock, SystemClock
from bot.context import AppContext
from handlers.announce import announcer_of
from scheduler.delivery.lanes import PACER
from scheduler.shifted_clock import ShiftedClock
from store.db import session_scope
from store.models import Delivery, DeliveryStatus, ProgressEntry
from tests.fakes.slack import FakeSlack, slash_command
from tests.handlers.test_http import post
from tests.handlers.test_repeats import updates_posted

CHANNEL = "C0PARTNER"
TITLES = ["dhr", "prevent", "fgm", "public engagement"]


@pytest.fixture
def running_http(seeded_ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock) -> Iterator[str]:
    """The HTTP server over the seeded database with a clock that runs (a 429's
    Retry-After must pass), pointed at the fake Slack."""
    from handlers.app import build_app, make_client
    from handlers.server import start_http_server

    PACER.reset()
    seeded_ctx.clock = ShiftedClock(SystemClock(), clock.now())
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    server = start_http_server(app, host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()
        PACER.reset()


def _burst(url: str, fake: FakeSlack, count: int, threads: int = 16) -> list[float]:
    """``count`` typed updates from ``threads`` people at once; each answer's seconds."""
    answers: list[float] = []
    wrong: list[str] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def person() -> None:
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            text = f"progress {TITLES[n % len(TITLES)]} green Update number {n} done"
            body = slash_command(text, user_id=f"U0PEOPLE{n % 16}", response_url="")
            started = time.monotonic()
            status, reply = post(url, body)
            took = time.monotonic() - started
            with lock:
                answers.append(took)
                if status != 200 or "Progress logged" not in json.loads(reply)["text"]:
                    wrong.append(f"{status} {reply[:200]}")

    workers = [threading.Thread(target=person) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert wrong == []
    return answers


def _entries(ctx: AppContext) -> int:
    with session_scope(ctx.sessions) as session:
        query = select(func.count()).select_from(ProgressEntry)
        return session.scalar(query.where(ProgressEntry.note.like("Update number %"))) or 0


def test_a_burst_under_slacks_rate_limit_is_coalesced_and_every_note_reaches_the_channel(
    running_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    fake_slack.per_channel_interval = 1.0  # Slack: one message a second per channel, then 429
    began = time.monotonic()
    answers = _burst(running_http, fake_slack, 60)
    burst = time.monotonic() - began
    assert len(answers) == 60 and max(answers) < 3.0
    assert _entries(seeded_ctx) == 60
    deadline = time.monotonic() + 30
    while updates_posted(fake_slack) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    posts = fake_slack.calls_to("chat.postMessage", ok=True)
    assert updates_posted(fake_slack) == 60
    seen = json.dumps([c.args.get("blocks") for c in posts])
    for n in range(60):  # every note once, none twice
        assert seen.count(f"Update number {n} done") == 1
    assert len(posts) <= int(burst) + 5
    assert any(str(c.args.get("text", "")).startswith(tuple("23456789")) for c in posts)


def test_slack_answering_429_for_20_seconds_keeps_no_listener_waiting(
    running_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    fake_slack.fail_for("chat.postMessage", 60, status=429, retry_after=20)
    answers = _burst(running_http, fake_slack, 40)
    assert len(answers) == 40 and max(answers) < 3.0
    for text in ("help", "due"):  # the next person is answered at once
        started = time.monotonic()
        status, reply = post(running_http, slash_command(text, response_url=""))
        assert status == 200 and json.loads(reply)["text"]
        assert time.monotonic() - started < 3.0
    assert _entries(seeded_ctx) == 40
    time.sleep(0.5)
    with session_scope(seeded_ctx.sessions) as session:
        rows = session.scalars(select(Delivery).where(Delivery.kind == "progress_update")).all()
        # Nothing is lost: the updates wait in the outbox for Retry-After, in a few rows.
        assert sum(len(r.payload["items"]) for r in rows) == 40
        assert len(rows) <= 3
        assert all(r.status == DeliveryStatus.PENDING for r in rows)
        assert all(r.last_error == "ratelimited" for r in rows if r.attempts)
    announcer = announcer_of(seeded_ctx)
    assert announcer is not None and not announcer.wait_idle(timeout=0.5)  # still waiting
    fake_slack.clear_failures()
