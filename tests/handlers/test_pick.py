"""A "did you mean" button finishes the typed command with everything that was typed."""

from __future__ import annotations

import json
import random

from sqlalchemy import select

from bot.context import AppContext
from store.db import session_scope
from store.models import ProgressEntry
from tests.fakes.slack import FakeSlack, block_action
from tests.handlers.test_http import csp, post

WORDS = (
    "panel booked partners agreed the review action plan police council health housing",
    "probation schools funding report board minutes actions owner date evidence victims",
    "referrals outcome chair meeting training survey consultation priority community",
    "safety partnership strategy delivery progress risk data",
)
VOCABULARY = " ".join(WORDS).split()


def long_note(length: int, seed: int = 13) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(rng.choice(VOCABULARY))
    return " ".join(words)[:length].rstrip() + "."


def test_a_long_note_picked_through_did_you_mean_is_kept_whole(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    note = long_note(2_900)
    assert len(note) >= 2_890
    reply = csp(slack_http, fake_slack, f"progress strat green {note}", "U0SAM")
    buttons = reply["blocks"][1]["elements"]
    assert len(buttons) == 2 and all(len(b["value"]) <= 2000 for b in buttons)
    url = fake_slack.response_url()
    status, _ = post(
        slack_http,
        block_action(
            buttons[1]["action_id"], buttons[1]["value"], user_id="U0SAM", response_url=url
        ),
    )
    assert status == 200
    (answer,) = fake_slack.wait_for("response_url")
    assert "Green" in answer.args["text"]
    with session_scope(seeded_ctx.sessions) as s:
        stored = s.scalars(select(ProgressEntry.note).order_by(ProgressEntry.id.desc())).first()
    assert stored == note


def test_a_note_that_cannot_ride_on_a_button_is_not_cut_silently(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    rng = random.Random(5)
    note = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2_900))
    reply = csp(slack_http, fake_slack, f"progress strat green {note}", "U0SAM")
    text = json.dumps(reply, ensure_ascii=False)
    assert "too long" in text and "type" in text
    for block in reply["blocks"]:
        for element in block.get("elements", ()):
            if element.get("type") == "button":
                carried = json.loads(element["value"])
                assert carried.get("a") != "progress"
    with session_scope(seeded_ctx.sessions) as s:
        before = s.scalars(select(ProgressEntry.note)).all()
    assert note not in before
