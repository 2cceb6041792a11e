"""The weekly digest: limits (50 blocks, 3000 chars a section) and counts-only referrals."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from bot.context import AppContext
from bot.notices.digest import build_digest
from bot.notices.digest_blocks import build_digest_blocks, digest_text
from bot.notices.digest_model import Digest, ReferralCounts
from bot.plan.models import DueItem, MeetingView
from store.db import session_scope
from store.models import Partnership


def _digest(n: int, referrals: ReferralCounts | None = None) -> Digest:
    overdue = tuple(
        DueItem(
            i,
            f"Objective number {i} with a fairly long title",
            dt.date(2026, 11, 1),
            "November 2026",
            None,
            True,
            ("U1",),
            "deadline",
        )
        for i in range(n)
    )
    return Digest(
        partnership_name="Maldon CSP",
        today=dt.date(2026, 11, 30),
        rag_counts={"red": 1, "amber": 2, "green": 3, "none": n, "done": 0},
        total=n + 6,
        overdue=overdue,
        due_soon=overdue[: n // 2],
        progress=(),
        meetings=(
            MeetingView(1, "One Chelmsford Board", dt.date(2026, 12, 1), None, None, None, None),
        ),
        referrals=referrals,
    )


def test_large_plan_fits_slack_limits() -> None:
    blocks = [b.to_dict() for b in build_digest_blocks(_digest(500))]
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    overdue = next(s for s in sections if "Overdue" in s)
    assert overdue.rstrip().endswith("more: /csp due")
    shown = overdue.count("\n• ")
    assert f"and {500 - shown} more" in overdue
    assert "date to be set" in str(blocks)


def test_referrals_are_counts_only_and_optional() -> None:
    without = str([b.to_dict() for b in build_digest_blocks(_digest(2))])
    assert "Safeguarding" not in without
    text = str([b.to_dict() for b in build_digest_blocks(_digest(2, ReferralCounts(3, 2, 1)))])
    assert "Opened this week: 3" in text and "past their deadline: 1" in text


def test_build_digest_on_the_seed(seeded_ctx: AppContext) -> None:
    now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    with session_scope(seeded_ctx.sessions) as session:
        p = session.scalars(select(Partnership)).one()
        digest = build_digest(session, p, now)
    assert digest.total == 13
    assert sum(digest.rag_counts.values()) == 13
    assert any("Overview" in d.title for d in digest.overdue)
    assert {m.body for m in digest.meetings} >= {"One Chelmsford Board"}
    assert len(build_digest_blocks(digest)) <= 50


EVIL = "hi <!channel> <https://evil.example|click here> & co"


def _unsafe(text: str) -> bool:
    return "<!channel>" in text or "<https://evil" in text


def test_digest_escapes_user_text() -> None:
    from bot.notices.digest_model import ProgressLine

    item = DueItem(1, EVIL, dt.date(2026, 11, 1), EVIL, EVIL, True, ("U1",), "deadline")
    soon = DueItem(2, EVIL, dt.date(2026, 12, 1), EVIL, None, False, (), "dated")
    digest = Digest(
        partnership_name="Maldon CSP",
        today=dt.date(2026, 11, 30),
        rag_counts={"red": 0, "amber": 0, "green": 0, "none": 2, "done": 0},
        total=2,
        overdue=(item,),
        due_soon=(soon,),
        progress=(
            ProgressLine(
                dt.datetime(2026, 11, 29, tzinfo=dt.UTC), EVIL, None, EVIL, "amber", False, EVIL
            ),
        ),
        meetings=(
            MeetingView(1, EVIL, dt.date(2026, 12, 1), dt.date(2026, 12, 3), None, EVIL, None),
            MeetingView(2, EVIL, dt.date(2026, 12, 1), None, None, None, None),
        ),
        referrals=None,
    )
    blocks = [b.to_dict() for b in build_digest_blocks(digest)]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert any("&lt;!channel&gt;" in t for t in texts)
    assert not any(_unsafe(t) for t in texts), texts


def test_empty_digest_tip_is_a_command_that_parses() -> None:
    from bot.text.commands import Progress, parse_command

    digest = _digest(0)
    digest = Digest(**{**digest.__dict__, "overdue": (), "due_soon": ()})
    text = json.dumps([b.to_dict() for b in build_digest_blocks(digest)])
    tip = text.split("Log some with `")[1].split("`")[0]
    assert "<" not in tip
    parsed = parse_command(tip.removeprefix("/csp "))
    assert isinstance(parsed, Progress)


def test_digest_overdue_matches_the_views(seeded_ctx: AppContext) -> None:
    from bot.plan.reading import due_items

    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    with session_scope(seeded_ctx.sessions) as session:
        p = session.scalars(select(Partnership)).one()
        digest = build_digest(session, p, now)
        due = due_items(session, p, dt.date(2026, 11, 26), 14)
    # The same overdue items as `/csp due` (and the reminder engine): 7 on the seed
    # loaded today (its dated 2026 deadlines; "31 March annually" is next due in 2027).
    assert [(d.objective_id, d.due_on) for d in digest.overdue] == [
        (d.objective_id, d.due_on) for d in due if d.overdue
    ]
    assert len(digest.overdue) == 7
    assert digest_text(digest).startswith("Weekly digest: 7 overdue")


def test_digest_shows_undated_meetings_by_month(seeded_ctx: AppContext) -> None:
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    with session_scope(seeded_ctx.sessions) as session:
        p = session.scalars(select(Partnership)).one()
        digest = build_digest(session, p, now)
    due_section = next(
        b["text"]["text"]
        for b in (x.to_dict() for x in build_digest_blocks(digest))
        if b.get("block_id") == "digest_due"
    )
    # Undated December meetings: the month, never a made-up "Tue 1 Dec".
    assert due_section.count("December 2026 (date to be set)") == 2
    assert "1 Dec" not in due_section


def test_digest_dates_are_local_days() -> None:
    """Progress logged and a snooze ending at 23:30 UTC in summer show the London day."""
    from dataclasses import replace

    from bot.notices.digest_model import ProgressLine

    late = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 on Thu 11 June, London
    snoozed = replace(_digest(1).overdue[0], snoozed_until=late)
    digest = replace(
        _digest(1),
        overdue=(snoozed,),
        progress=(ProgressLine(late, "Sam", "U1", "Plan", None, False, "Sent"),),
        zone="Europe/London",
    )
    text = json.dumps([b.to_dict() for b in build_digest_blocks(digest)])
    assert "snoozed until Thu 11 Jun" in text
    assert "Thu 11 Jun <@U1> on *Plan*" in text
    assert "Wed 10 Jun" not in text


def test_build_digest_records_the_partnership_zone(seeded_ctx: AppContext) -> None:
    with session_scope(seeded_ctx.sessions) as session:
        p = session.scalars(select(Partnership)).one()
        digest = build_digest(session, p, dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    assert digest.zone == "Europe/London"
    assert digest.referrals is not None  # referral counts always ship


def test_undated_meetings_say_an_admin_sets_the_date() -> None:
    text = str([b.to_dict() for b in build_digest_blocks(_digest(500))])
    assert "date to be set by an admin" in text
    assert "/csp meeting`" not in text  # members cannot set dates, so no command for them
