"""The lead's detail view and the channel alert stay inside Block Kit's limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from bot.referrals.models import NoteView, ReferralDetail, ReferralSummary
from bot.slack.referral_alerts import build_alert_blocks
from bot.slack.referral_detail import build_detail_view
from bot.slack.referral_lead import build_referral_list_blocks

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def slack_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def summary(status: str = "open") -> ReferralSummary:
    return ReferralSummary(
        id=1, reference="SG-2026-0007", group="child", category="modern_slavery",
        urgency="immediate", status=status, created_at=NOW, acknowledged_at=None,
        acknowledged_by=None, assigned_to=None, referred_on_to=None, closed_at=None,
        zone="Europe/London",
    )  # fmt: skip


def detail(value: str, notes: int, status: str = "open") -> ReferralDetail:
    return ReferralDetail(
        summary=summary(status),
        referrer_slack_id="UMEMBER",
        subject={"name": value, "dob": None, "age": value, "address": value, "location": value},
        concern={"what": value, "when": value, "where": value, "how_known": value},
        referrer={"name": value, "role": value, "agency": value, "contact": value},
        consent={"status": "refused", "reason": value},
        actions={"taken": value},
        outcome={"text": value},
        notes=tuple(NoteView(NOW, "ULEAD", value) for _ in range(notes)),
    )


def texts(node: Any) -> list[str]:
    """Every text object's text, anywhere in a view."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            found.append(node["text"])
        for child in node.values():
            found += texts(child)
    elif isinstance(node, list):
        for child in node:
            found += texts(child)
    return found


@pytest.mark.parametrize("unit", ["x", "😀", "ש", "<!channel> *b*"])
@pytest.mark.parametrize("status", ["open", "closed"])
def test_long_fields_are_split_never_rejected(unit: str, status: str) -> None:
    value = (unit * 3000)[:3000]
    view = build_detail_view(detail(value, notes=25, status=status))
    view.validate_json()  # slack_sdk's own checks
    body = view.to_dict()
    assert len(body["blocks"]) <= 100
    assert slack_len(body["title"]["text"]) <= 24
    sections = [b for b in body["blocks"] if b["type"] == "section"]
    assert all(slack_len(b["text"]["text"]) <= 3000 for b in sections)
    assert all(b["text"]["type"] == "plain_text" for b in sections)  # typed text never mrkdwn
    # Nothing of the "What happened" field is lost: its pieces join back up.
    blocks = body["blocks"]
    start = next(
        i for i, b in enumerate(blocks) if b["type"] == "context" and "What happened" in str(b)
    )
    pieces = []
    for b in blocks[start + 1 :]:
        if b["type"] != "section":
            break
        pieces.append(b["text"]["text"])
    assert "".join(pieces) == value
    assert not any(b["type"] == "input" for b in blocks)  # sub-forms hold the inputs
    # The workflow buttons sit above the contents, so they are never cut off.
    buttons = [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    if status == "open":
        assert buttons == ["Acknowledge", "Assign", "Refer on", "Add note", "Close referral"]
    else:
        assert buttons == []
    shown_notes = sum(1 for t in texts(body) if t.startswith("*Note by"))
    if shown_notes < 25:
        assert any("older notes are not shown" in t for t in texts(body))


def test_the_alert_carries_reference_category_urgency_and_time_only() -> None:
    blocks = [b.to_dict() for b in build_alert_blocks(summary())]
    assert blocks[0]["text"]["text"].splitlines() == [
        ":rotating_light: *Safeguarding referral SG-2026-0007*",
        "*Category:* Modern slavery and trafficking",
        "*Urgency:* Immediate risk",
        "*Raised:* Thu 26 Nov 2026 10:00",
    ]
    assert [b["type"] for b in blocks] == ["section", "context", "actions"]
    assert blocks[1]["elements"][0]["text"] == ":hourglass: Awaiting acknowledgement"
    buttons = blocks[2]["elements"]
    assert [e["text"]["text"] for e in buttons] == ["Acknowledge", "View", "Assign"]
    assert all(e["value"] == "SG-2026-0007" for e in buttons)


def test_each_list_row_has_the_actions_that_fit_its_state() -> None:
    waiting = summary()
    acked = dataclasses.replace(
        summary(),
        reference="SG-2026-0008",
        acknowledged_at=dt.datetime(2026, 11, 26, 11, tzinfo=dt.UTC),
        acknowledged_by="ULEAD",
        status="acknowledged",
    )
    blocks = [b.to_dict() for b in build_referral_list_blocks([waiting, acked])]
    rows = [
        [(e["text"]["text"], e["action_id"], e["value"]) for e in b["elements"]]
        for b in blocks
        if b["type"] == "actions"
    ]
    assert rows == [
        [
            ("Acknowledge", "referral_ack", "SG-2026-0007"),
            ("Assign", "referral_assign", "SG-2026-0007"),
            ("View", "referral_view", "SG-2026-0007"),
        ],
        [
            ("Assign", "referral_assign", "SG-2026-0008"),
            ("View", "referral_view", "SG-2026-0008"),
        ],
    ]
    many = build_referral_list_blocks([summary()] * 200)
    assert len(many) <= 50
