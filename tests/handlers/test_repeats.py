"""Progress a person can repeat is stored once: a resubmitted view, a repeated command."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.ids import Ids
from store.db import session_scope
from store.models import ProgressEntry
from tests.fakes.slack import FakeSlack, slash_command, view_submission
from tests.handlers.test_http import _modal_values, post

CHANNEL = "C0PARTNER"


def _entries(ctx: AppContext, note: str) -> int:
    with session_scope(ctx.sessions) as session:
        return (
            session.scalar(
                select(func.count()).select_from(ProgressEntry).where(ProgressEntry.note == note)
            )
            or 0
        )


def updates_posted(fake: FakeSlack) -> int:
    """How many progress updates the channel posts carry (a coalesced post says how many)."""
    total = 0
    for call in fake.calls_to("chat.postMessage"):
        found = re.match(r"(\d+) progress updates:", str(call.args.get("text") or ""))
        total += int(found.group(1)) if found else 1
    return total


def _announced(fake: FakeSlack, count: int) -> None:
    """Exactly ``count`` updates announced in the channel (none more arrives in a second)."""
    deadline = time.monotonic() + 10
    while updates_posted(fake) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.0)
    assert updates_posted(fake) == count
    assert all(c.args["channel"] == CHANNEL for c in fake.calls_to("chat.postMessage"))


def _open_modal(slack_http: str, fake: FakeSlack) -> tuple[str, str]:
    """Open the progress modal; the DHR option's value and the view's private_metadata."""
    status, _ = post(slack_http, slash_command("progress", response_url=fake.response_url()))
    assert status == 200
    (opened,) = fake.wait_for("views.open")
    view = opened.args["view"]
    options = view["blocks"][0]["element"]["options"]
    dhr = next(o["value"] for o in options if o["text"]["text"] == "Domestic Homicide Reviews")
    return dhr, view["private_metadata"]


def test_the_same_view_submitted_twice_is_stored_and_announced_once(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    note = "Review closed with the Home Office"
    dhr, meta = _open_modal(slack_http, fake_slack)
    body = view_submission(
        Ids.PROGRESS_MODAL,
        _modal_values(dhr, "green", note),
        private_metadata=meta,
        view_id="V0ONCE",
    )
    for _ in range(2):
        status, answer = post(slack_http, body)
        assert status == 200 and answer == ""
    first, second = fake_slack.wait_for("response_url", 2)
    assert first.args["text"] == second.args["text"]  # answered like the first
    assert "Domestic Homicide Reviews" in second.args["text"]
    assert _entries(seeded_ctx, note) == 1
    _announced(fake_slack, 1)


def test_a_new_version_of_the_view_is_a_new_update(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    note = "Panel met"
    dhr, meta = _open_modal(slack_http, fake_slack)
    for view_id in ("V0FIRST", "V0SECOND"):
        body = view_submission(
            Ids.PROGRESS_MODAL,
            _modal_values(dhr, "green", note),
            private_metadata=meta,
            view_id=view_id,
        )
        assert post(slack_http, body)[0] == 200
    fake_slack.wait_for("response_url", 2)
    assert _entries(seeded_ctx, note) == 2
    _announced(fake_slack, 2)


def test_the_same_slash_command_body_twice_is_stored_and_announced_once(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    """A redelivery: the very same body again."""
    note = "Panel booked for 3 March"
    body = slash_command(f"progress dhr amber {note}", response_url=fake_slack.response_url())
    answers = []
    for _ in range(2):
        status, answer = post(slack_http, body)
        assert status == 200
        answers.append(json.loads(answer))
    assert answers[0]["text"] == answers[1]["text"]
    assert "Domestic Homicide Reviews" in answers[1]["text"]
    assert _entries(seeded_ctx, note) == 1
    _announced(fake_slack, 1)


def test_a_retyped_progress_in_the_same_minute_is_stored_once(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext, clock: FixedClock
) -> None:
    """The person saw a failure and typed it again (a new request: new trigger, new URL)."""
    note = "Panel booked for 3 March"
    clock.set(dt.datetime(2026, 11, 26, 10, 0, 50, tzinfo=dt.UTC))
    for n, at in enumerate((50, 70)):  # across the minute's end, 20 seconds apart
        clock.set(dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=at))
        body = slash_command(
            f"progress  dhr amber {note} ",
            response_url=fake_slack.response_url(),
            trigger_id=f"T{n}.retyped",
        )
        status, answer = post(slack_http, body)
        assert status == 200
        assert "Domestic Homicide Reviews" in json.loads(answer)["text"]
    assert _entries(seeded_ctx, note) == 1
    _announced(fake_slack, 1)

    # Minutes later the same words are a new update; so is another person's.
    clock.advance(dt.timedelta(minutes=5))
    assert post(slack_http, slash_command(f"progress dhr amber {note}"))[0] == 200
    assert post(slack_http, slash_command(f"progress dhr amber {note}", user_id="U0SAM"))[0] == 200
    assert _entries(seeded_ctx, note) == 3
    _announced(fake_slack, 3)


def test_two_copies_saved_at_once_store_one_entry(
    slack_http: str,
    fake_slack: FakeSlack,
    seeded_ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second copy passes the look-up before the first has committed: the key's
    unique constraint stops its entry, and it answers from the first. (Saved one at a
    time, as on PostgreSQL; a batch looks its keys up under the write lock.)"""
    import handlers.progress
    import handlers.progress_batch

    monkeypatch.setattr(handlers.progress_batch, "writer_for", lambda ctx: None)

    note = "Panel booked for 3 March"
    body = slash_command(f"progress dhr amber {note}", response_url=fake_slack.response_url())
    assert post(slack_http, body)[0] == 200
    real = handlers.progress.earlier_progress
    missed = []

    def not_yet_committed(unit: Any, keys: Any) -> Any:
        if not missed:
            missed.append(keys)
            return None
        return real(unit, keys)

    monkeypatch.setattr(handlers.progress, "earlier_progress", not_yet_committed)
    status, answer = post(slack_http, body)
    assert status == 200 and missed
    assert "Domestic Homicide Reviews" in json.loads(answer)["text"]
    assert _entries(seeded_ctx, note) == 1
    _announced(fake_slack, 1)
