"""Whatever a client sends, what is audited fits the audit columns and is plain text."""

from __future__ import annotations

import string

from slack_bolt import App
from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from store.db import session_scope
from store.models import AuditRecord
from tests.fakes.slack import FakeSlack, block_action
from tests.handlers.referrals.test_lead_actions import app, send  # noqa: F401  (fixture)

PRINTABLE = set(string.printable) - set("\t\n\r\x0b\x0c")


def test_a_forged_200_character_reference_is_refused_and_audited_within_bounds(
    app: App,  # noqa: F811
    ctx: AppContext,
    fake_slack: FakeSlack,
) -> None:
    forged = ("SG-2026-" + "9" * 60 + "\n\x00\u202e<!channel>" + "x" * 200)[:200]
    assert len(forged) == 200
    for action_id in (Ids.REFERRAL_CLOSE_OPEN, Ids.REFERRAL_CLOSE_OPEN, Ids.REFERRAL_CLOSE_OPEN):
        url = fake_slack.response_url()
        status, _ = send(app, block_action(action_id, forged, user_id="UMEMBER", response_url=url))
        assert status == 200
    replies = fake_slack.calls_to("response_url")
    assert len(replies) == 3
    assert all("not a safeguarding lead" in r.args["text"] for r in replies)
    with session_scope(ctx.sessions) as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.action == "denied_close")).all()
        assert len(rows) == 3
        for row in rows:
            assert row.referral_reference is not None
            assert 0 < len(row.referral_reference) <= 32
            assert set(row.referral_reference) <= PRINTABLE
            assert row.referral_reference.startswith("SG-2026-9")
            assert len(row.actor) <= 64 and len(row.action) <= 32 and len(row.detail) <= 500
