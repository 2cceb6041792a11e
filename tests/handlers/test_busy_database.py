"""A database held by another writer: the request gives up in time and saves nothing later."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from bot.context import AppContext
from bot.ids import Ids
from store.db import session_scope
from store.models import ProgressEntry, Referral
from tests.dbutil import on_postgres
from tests.fakes.slack import FakeSlack, slash_command, view_submission
from tests.handlers.referrals.test_leaks import good_values
from tests.handlers.test_http import _modal_values, post

pytestmark = pytest.mark.skipif(on_postgres(), reason="about SQLite's single write lock")


@contextmanager
def held_lock(ctx: AppContext) -> Iterator[None]:
    """Another program (a SQL client, a second process) holds the write lock."""
    path = ctx.settings.sqlite_path
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _count(ctx: AppContext, model: type[ProgressEntry] | type[Referral]) -> int:
    with session_scope(ctx.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_typed_progress_gives_up_in_time_and_saves_nothing_later(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    before = _count(seeded_ctx, ProgressEntry)
    body = slash_command("progress dhr amber Panel booked", response_url=fake_slack.response_url())
    with held_lock(seeded_ctx):
        started = time.monotonic()
        status, answer = post(slack_http, body)
        took = time.monotonic() - started
        time.sleep(0.5)
    assert status == 200 and took < 3.0
    text = json.loads(answer)["text"]
    assert "nothing was saved" in text and "try again in a minute" in text
    assert "Something went wrong" not in text
    time.sleep(0.5)  # the lock has lifted: nothing commits behind the person's back
    assert _count(seeded_ctx, ProgressEntry) == before
    status, answer = post(slack_http, body)  # trying again, as told, works
    assert "Progress logged" in json.loads(answer)["text"]
    assert _count(seeded_ctx, ProgressEntry) == before + 1


def test_the_progress_form_gives_up_in_time(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    status, _ = post(slack_http, slash_command("progress", response_url=fake_slack.response_url()))
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    dhr = next(
        o["value"]
        for o in view["blocks"][0]["element"]["options"]
        if o["text"]["text"] == "Domestic Homicide Reviews"
    )
    body = view_submission(
        Ids.PROGRESS_MODAL,
        _modal_values(dhr, "green", "Review closed"),
        private_metadata=view["private_metadata"],
        view_id="V0BUSY",
    )
    before = _count(seeded_ctx, ProgressEntry)
    with held_lock(seeded_ctx):
        started = time.monotonic()
        status, answer = post(slack_http, body)
        took = time.monotonic() - started
    assert status == 200 and took < 3.0
    assert "nothing was saved" in answer and "try again" in answer
    time.sleep(0.5)
    assert _count(seeded_ctx, ProgressEntry) == before


def test_a_referral_gives_up_in_time_and_is_not_created_later(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    body = view_submission(Ids.REFERRAL_MODAL, good_values(), user_id="UMEMBER")
    with held_lock(seeded_ctx):
        started = time.monotonic()
        status, answer = post(slack_http, body)
        took = time.monotonic() - started
    assert status == 200 and took < 3.0
    # The form stays open with what was typed, and says to press Send again.
    assert "could not save the referral just now" in answer and "Send again" in answer
    assert "SG-" not in answer
    time.sleep(0.5)
    assert _count(seeded_ctx, Referral) == 0
    status, answer = post(slack_http, body)  # trying again makes exactly one
    assert "SG-2026-0001" in answer
    assert _count(seeded_ctx, Referral) == 1
