"""What an app's requests share (handlers.units): read before serving, so the first are quick."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

import bot.plan.readcache as readcache
from bot.context import AppContext
from handlers.app import build_app, make_client
from handlers.units import Units, warm_up
from store.db import make_engine, open_pool
from tests.fakes.slack import signed_request, slash_command


def _request(text: str, user: str) -> BoltRequest:
    headers, raw = signed_request(slash_command(text, user_id=user))
    return BoltRequest(body=raw, headers={k.lower(): [v] for k, v in headers.items()})


def test_an_app_warmed_up_answers_its_first_request_without_reading_the_plan(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    readcache.clear()
    reads: list[Any] = []
    real = readcache.load_snapshot

    def counted(*args: Any, **kwargs: Any) -> readcache.PlanSnapshot:
        reads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(readcache, "load_snapshot", counted)
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    warm_up(app)
    assert len(reads) == 1  # read once, before anyone asked
    response = app.dispatch(_request("progress dhr amber First after a start", "U0FIRST"))
    assert response.status == 200
    assert "Progress logged" in json.loads(response.body)["text"]
    assert len(reads) == 1  # the first person did not wait for the plan to be read


def test_warming_up_that_fails_is_logged_and_the_app_still_answers(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Units) -> None:
        raise RuntimeError("secret detail from the database")

    monkeypatch.setattr(Units, "warm", broken)
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    with caplog.at_level(logging.WARNING):
        warm_up(app)
    assert "Could not read the plan before serving (RuntimeError); serving anyway." in caplog.text
    assert "secret detail" not in caplog.text
    response = app.dispatch(_request("due", "U0FIRST"))
    assert response.status == 200


def test_a_warmed_up_app_has_its_connections_open_and_its_progress_facts_read(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.plan.reading as reading

    readcache.clear()
    facts: list[Any] = []
    real_facts = reading.facts_of

    def counted(*args: Any, **kwargs: Any) -> Any:
        facts.append(args)
        return real_facts(*args, **kwargs)

    monkeypatch.setattr(reading, "facts_of", counted)
    engine = seeded_ctx.engine
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    warm_up(app)
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == pool.size() == 16
    assert len(facts) == 1
    opened: list[Any] = []

    def connected(*args: Any) -> None:
        opened.append(args)

    event.listen(engine, "connect", connected)
    try:
        response = app.dispatch(_request("progress dhr amber First after a start", "U0FIRST"))
    finally:
        event.remove(engine, "connect", connected)
    assert response.status == 200
    assert "Progress logged" in json.loads(response.body)["text"]
    assert len(facts) == 1  # the first update's batch used what was read at the start
    assert opened == []  # nor opened a connection of its own


def test_opening_the_pool_twice_opens_nothing_more(seeded_ctx: AppContext) -> None:
    pool = seeded_ctx.engine.pool
    assert isinstance(pool, QueuePool)
    first = open_pool(seeded_ctx.engine)
    assert pool.checkedin() == pool.size()
    assert open_pool(seeded_ctx.engine) == 0
    assert first <= pool.size()
    memory = make_engine("sqlite://")
    assert open_pool(memory) == 0
    memory.dispose()
