"""Reminder, meeting and failure builders escape every piece of data they write."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bot.slack.delivery_failures import (
    DeliveryFailureView,
    build_delivery_failure_blocks,
    failure_text,
)
from bot.slack.meeting_notices import (
    MeetingNoticeView,
    SetDatePromptView,
    build_meeting_notice_blocks,
    build_set_date_blocks,
    meeting_text,
    set_date_text,
)
from bot.slack.reminders import ReminderView, build_reminder_blocks, reminder_text

HOSTILE = "Safer streets <!channel> & <https://x.example/|the council page>"
TODAY = dt.date(2026, 11, 26)
# Mentions the builders write on purpose, around Slack IDs (never around data).
OWN_MARKUP = re.compile(r"<[@#][UWCG][A-Z0-9]+>")
ENTITY = re.compile(r"&(amp|lt|gt);")


def _texts(value: Any) -> list[str]:
    """Every "text" string in a block tree (mrkdwn and plain text alike)."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _assert_escaped(text: str) -> None:
    rest = ENTITY.sub("", OWN_MARKUP.sub("", text))
    assert not set("<>&") & set(rest), text
    assert "&lt;!channel&gt;" in text, text


def _check(message_text: str, blocks: list[Any]) -> None:
    _assert_escaped(message_text)
    texts = _texts([b.to_dict() for b in blocks])
    assert any(HOSTILE not in t and "&lt;!channel&gt;" in t for t in texts)
    for t in texts:
        rest = ENTITY.sub("", OWN_MARKUP.sub("", t))
        assert not set("<>&") & set(rest), t
    assert "<!channel>" not in json.dumps([b.to_dict() for b in blocks])


def test_reminders_escape_titles_owners_bodies_and_labels() -> None:
    base: dict[str, Any] = {
        "objective_id": 1,
        "title": HOSTILE,
        "today": TODAY,
        "due_on": TODAY + dt.timedelta(days=7),
        "body": HOSTILE,
        "statutory_basis": HOSTILE,
        "late": True,
        "planned_for": TODAY,
        "last_progress_on": TODAY,
    }
    for kind, stage in (("deadline", "d7"), ("deadline", "day"), ("overdue", "overdue1")):
        for extra in (
            {"owners": ("U1", HOSTILE), "no_owner": False},
            {"owners": (HOSTILE,), "no_owner": True},
            {"owners": ("U1",), "due_label": HOSTILE},
        ):
            view = ReminderView(kind=kind, stage=stage, **base, **extra)
            _check(reminder_text(view), build_reminder_blocks(view))
    quiet = ReminderView(kind="quiet", stage="quiet1", **base, owners=(HOSTILE,), no_owner=True)
    _check(reminder_text(quiet), build_reminder_blocks(quiet))


def test_the_owner_hint_shows_its_placeholder_escaped() -> None:
    view = ReminderView(
        kind="deadline",
        stage="d7",
        objective_id=1,
        title="Plan",
        today=TODAY,
        due_on=TODAY,
        no_owner=True,
    )
    raw = json.dumps([b.to_dict() for b in build_reminder_blocks(view)])
    assert "<objective>" not in raw and "/csp owner &lt;objective&gt; @person" in raw


def test_meeting_notices_escape_bodies_places_and_titles() -> None:
    for stage in ("meeting_d7", "meeting_day"):
        view = MeetingNoticeView(
            stage=stage,
            meeting_id=1,
            body=HOSTILE,
            meeting_date=TODAY + dt.timedelta(days=7),
            today=TODAY,
            start_time=dt.time(10, 0),
            place=HOSTILE,
            papers_due=TODAY + dt.timedelta(days=2),
            objective_id=3,
            objective_title=HOSTILE,
            late=True,
        )
        _check(meeting_text(view), build_meeting_notice_blocks(view))
    prompt = SetDatePromptView(
        meeting_id=1, body=HOSTILE, month=dt.date(2026, 12, 1), today=TODAY, late=True
    )
    _check(set_date_text(prompt), build_set_date_blocks(prompt))


def test_failure_notes_escape_reasons_targets_and_kinds() -> None:
    at = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    for kind in ("deadline", "referral_alert", HOSTILE):
        for target in ("C0PARTNER", "U1", HOSTILE):
            view = DeliveryFailureView(reason=HOSTILE, target=target, kind=kind, failed_at=at)
            _check(failure_text(view), build_delivery_failure_blocks(view))
