"""The progress modal's private_metadata is signed: a forged one can neither redirect the
confirmation nor write to another objective."""

from __future__ import annotations

import json
from typing import Any

from bot.ids import Ids
from tests.fakes.slack import FakeSlack, block_action, view_submission
from tests.handlers.test_http import _modal_values, csp, post, words


def _open_prefilled(base: str, fake: FakeSlack) -> tuple[dict[str, Any], dict[str, str]]:
    """Open the modal from a plan's "Log progress" button; (metadata, objective buttons)."""
    plan = csp(base, fake, "plan")
    buttons = {b["text"]["text"]: b["accessory"] for b in plan["blocks"] if "accessory" in b}
    first = next(iter(buttons.values()))
    status, _ = post(
        base,
        block_action(first["action_id"], first["value"], response_url=fake.response_url()),
    )
    assert status == 200
    (opened,) = fake.wait_for("views.open")
    meta: dict[str, Any] = json.loads(opened.args["view"]["private_metadata"])
    assert meta["objective_id"] == int(first["value"])
    return meta, {k: v["value"] for k, v in buttons.items()}


def _submit(base: str, meta: str, note: str) -> dict[str, Any]:
    values = _modal_values("", "green", note)
    del values[Ids.PROGRESS_OBJECTIVE]
    status, body = post(base, view_submission(Ids.PROGRESS_MODAL, values, private_metadata=meta))
    assert status == 200
    return json.loads(body) if body else {}


def test_a_tampered_private_metadata_is_refused(slack_http: str, fake_slack: FakeSlack) -> None:
    meta, objectives = _open_prefilled(slack_http, fake_slack)
    other = next(int(v) for v in objectives.values() if int(v) != meta["objective_id"])
    with FakeSlack() as evil:
        forged = {**meta, "objective_id": other, "response_url": evil.response_url()}
        reply = _submit(slack_http, json.dumps(forged), "Forged note about another objective")
        assert reply["response_action"] == "update"
        said = json.dumps(reply["view"])
        assert "nothing was saved" in said and "/csp progress" in said
        # Without a signature at all, the same.
        unsigned = {k: v for k, v in forged.items() if k != "sig"}
        _submit(slack_http, json.dumps(unsigned), "Forged note about another objective")
        assert evil.calls == []
    assert fake_slack.calls_to("response_url") == []
    assert fake_slack.calls_to("chat.postMessage") == []
    for title in objectives:
        shown = csp(slack_http, fake_slack, f"show {title}")
        assert "Forged note" not in words(shown)


def test_the_signed_private_metadata_still_saves(slack_http: str, fake_slack: FakeSlack) -> None:
    meta, _ = _open_prefilled(slack_http, fake_slack)
    reply = _submit(slack_http, json.dumps(meta), "Honest note")
    assert reply == {}  # confirmed through the (signed) response_url instead
    (confirmed,) = fake_slack.wait_for("response_url")
    assert "Honest note" in json.dumps(confirmed.args)
