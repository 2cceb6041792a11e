"""Block Kit builders: Slack's limits hold however big the plan; text is readable."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.ids import Ids
from bot.plan.models import (
    DueItem,
    MeetingView,
    ObjectiveDetail,
    ObjectiveSummary,
    ProgressView,
    ScheduleLine,
)
from bot.slack.blocks import chunk_lines, section
from bot.slack.help import build_help_blocks
from bot.slack.home import HOME_MINE_MAX, HomeModel, build_home_view
from bot.slack.meetings import build_meetings_blocks
from bot.slack.plan_views import (
    build_due_blocks,
    build_objective_blocks,
    build_plan_blocks,
    next_text,
)
from bot.slack.progress import (
    NO_CHANGE_VALUE,
    build_pick_blocks,
    build_progress_confirmation_blocks,
    build_progress_saved_modal,
    progress_channel_item,
)
from bot.slack.progress_form import ProgressFormState, build_progress_modal
from bot.slack.text_render import buttons_in, mrkdwn_to_text, render_text

TODAY = dt.date(2026, 11, 26)


def summary(i: int, **kw: Any) -> ObjectiveSummary:
    values: dict[str, Any] = {
        "id": i,
        "title": f"Objective {i} " + "x" * (i % 280),
        "owners": ("U1", "Community safety officer"),
        "owner_ids": ("U1",),
        "rag": ("red", "amber", "green", None)[i % 4],
        "status": "open",
        "next_date": TODAY + dt.timedelta(days=i),
        "next_label": "March <2027> & co",
        "overdue": i % 5 == 0,
        "overdue_since": TODAY - dt.timedelta(days=3) if i % 5 == 0 else None,
        "needs_dating": False,
        "ongoing": False,
        "timescale_text": "Ongoing",
        "last_progress_at": None,
    }
    values.update(kw)
    return ObjectiveSummary(**values)


def due(i: int, overdue: bool) -> DueItem:
    return DueItem(
        i,
        f"Objective {i} " + "y" * 200,
        TODAY,
        "Annual report " * 5,
        "Board",
        overdue,
        ("U1", "U2"),
        "deadline",
    )


def meeting(i: int) -> MeetingView:
    return MeetingView(i, f"Body {i % 3}", dt.date(2027, 1 + i % 12, 1), None, None, None, None)


def dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]  # to_dict() enforces per-element limits


def sections_within_limits(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000


BIG = [summary(i) for i in range(1, 501)]


@pytest.mark.parametrize("page", [1, 2, 25, 26, 999])
def test_plan_pages_stay_within_50_blocks(page: int) -> None:
    blocks = dicts(build_plan_blocks(BIG, page=page, plan_year=2026))
    assert len(blocks) <= 50
    sections_within_limits(blocks)
    assert "Page" in json.dumps(blocks)


def test_plan_page_has_log_progress_buttons_with_ids() -> None:
    blocks = dicts(build_plan_blocks(BIG[:3]))
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [b["action_id"] for b in buttons] == [Ids.PROGRESS_OPEN] * 3
    assert [b["value"] for b in buttons] == ["1", "2", "3"]


def test_user_text_is_escaped() -> None:
    text = json.dumps(dicts(build_plan_blocks([summary(1, title="A <b> & <@U9>")])))
    assert "A &lt;b&gt; &amp; &lt;@U9&gt;" in text


def test_empty_plan_says_what_to_do() -> None:
    text = render_text(build_plan_blocks([]))
    assert "plan import" in text


def test_due_stays_within_limits_with_thousands_of_items() -> None:
    items = [due(i, i < 700) for i in range(1500)]
    blocks = dicts(build_due_blocks(items, days=30, today=TODAY))
    assert len(blocks) <= 50
    sections_within_limits(blocks)


def test_due_empty_suggests_looking_further() -> None:
    assert "/csp due 90" in render_text(build_due_blocks([], days=30, today=TODAY))


def test_home_never_exceeds_100_blocks() -> None:
    model = HomeModel(
        user_id="U1",
        summaries=tuple(BIG),
        due=tuple(due(i, i % 2 == 0) for i in range(2000)),
        meetings=tuple(meeting(i) for i in range(100)),
        today=TODAY,
    )
    view = build_home_view(model).to_dict()
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    sections_within_limits(view["blocks"])
    mine = [
        b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == Ids.PROGRESS_OPEN
    ]
    assert 0 < len(mine) <= HOME_MINE_MAX


def test_home_for_someone_with_nothing() -> None:
    model = HomeModel("U9", (), (), (), TODAY)
    text = render_text(build_home_view(model).to_dict()["blocks"])
    assert "You don't own any objectives yet" in text
    assert "Nothing is overdue" in text


def test_progress_modal_small_plan_uses_a_menu() -> None:
    view = build_progress_modal([(1, "A"), (2, "B")]).to_dict()
    assert view["callback_id"] == Ids.PROGRESS_MODAL
    assert len(view["title"]["text"]) <= 24
    ids = [b.get("block_id") for b in view["blocks"]]
    assert ids == [
        Ids.PROGRESS_OBJECTIVE,
        Ids.PROGRESS_RAG,
        Ids.PROGRESS_NOTE,
        Ids.PROGRESS_DATE,
        Ids.PROGRESS_EVIDENCE,
    ]
    assert view["blocks"][0]["element"]["type"] == "static_select"
    assert view["blocks"][2]["element"]["multiline"] is True
    assert view["blocks"][3]["optional"] and view["blocks"][4]["optional"]


def test_progress_modal_large_plan_types_the_objective() -> None:
    choices = [(i, f"Objective {i}") for i in range(500)]
    view = build_progress_modal(choices).to_dict()
    assert view["blocks"][0]["element"]["type"] == "plain_text_input"


def test_progress_modal_prefilled() -> None:
    state = ProgressFormState(objective_id=2, rag="amber", note="typed", as_of=TODAY)
    view = build_progress_modal(
        [(1, "A"), (2, "B")], state, private_metadata={"response_url": "u"}
    ).to_dict()
    assert json.loads(view["private_metadata"]) == {"response_url": "u", "objective_id": 2}
    assert view["blocks"][0]["type"] == "section"
    rag = view["blocks"][1]["element"]
    assert rag["initial_option"]["value"] == "amber"
    assert view["blocks"][2]["element"]["initial_value"] == "typed"
    assert view["blocks"][3]["element"]["initial_date"] == "2026-11-26"


def test_pick_buttons_are_unique_and_carry_the_request() -> None:
    blocks = dicts(
        build_pick_blocks(
            "strat", [(1, "A"), (4, "B")], action="progress", r="green", n="note " * 1000
        )
    )
    buttons = blocks[1]["elements"]
    assert len({b["action_id"] for b in buttons}) == 2
    value = json.loads(buttons[1]["value"])
    assert value["a"] == "progress" and value["id"] == 4 and value["r"] == "green"
    assert all(len(b["value"]) <= 2000 for b in buttons)


def test_objective_detail_and_confirmation_render() -> None:
    detail = ObjectiveDetail(
        summary=summary(3),
        action_text="Do the thing " * 400,
        statutory_basis="Crime and Disorder Act 1998 s.6",
        schedule=tuple(
            ScheduleLine("deadline", TODAY, None, f"Step {i}", None) for i in range(300)
        ),
        recent_progress=tuple(
            ProgressView(
                dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                "Sam",
                "U1",
                "amber",
                False,
                "n" * 900,
                None,
                "https://example.org/e",
            )
            for _ in range(5)
        ),
    )
    blocks = dicts(build_objective_blocks(detail))
    assert len(blocks) <= 50
    sections_within_limits(blocks)
    text = render_text(
        build_progress_confirmation_blocks(summary(3), note="Panel booked", done=False, rag="amber")
    )
    assert "Amber" in text and "Panel booked" in text and "/csp" in text


def test_render_text_numbers_buttons_and_unescapes() -> None:
    blocks = build_plan_blocks([summary(1, title="A & B"), summary(2)])
    text = render_text(blocks)
    assert "A & B" in text
    assert "[1] Log progress" in text and "[2] Log progress" in text
    refs = buttons_in(blocks)
    assert [r.number for r in refs] == [1, 2] and refs[0].value == "1"
    assert "evidence (https://x)" in mrkdwn_to_text("<https://x|evidence>")


def test_help_escapes_placeholders() -> None:
    blocks = dicts(build_help_blocks(is_admin=True))
    raw = json.dumps(blocks)
    assert "<objective>" not in raw and "&lt;objective&gt;" in raw
    assert "<objective>" in render_text(build_help_blocks(is_admin=False))


def test_chunk_lines_respects_the_limit() -> None:
    chunks = chunk_lines(["a" * 2000, "b" * 2000, "c" * 5000])
    assert all(len(c) <= 3000 for c in chunks) and len(chunks) == 3


def test_meetings() -> None:
    blocks = dicts(build_meetings_blocks([meeting(i) for i in range(400)], is_admin=True))
    assert len(blocks) <= 50
    assert "date to be set" in json.dumps(blocks)


EVIL = "hi <!channel> <https://evil.example|click here>"


def _mrkdwn(node: Any) -> list[str]:
    """Every mrkdwn text in a block tree (plain_text is never parsed by Slack)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [str(node.get("text", ""))]
        return [t for value in node.values() for t in _mrkdwn(value)]
    if isinstance(node, list):
        return [t for value in node for t in _mrkdwn(value)]
    return []


def _unsafe(blocks: list[dict[str, Any]]) -> bool:
    return any("<!channel>" in t or "<https://evil" in t for t in _mrkdwn(blocks))


def test_user_text_is_escaped_everywhere() -> None:
    s = summary(1, title=EVIL, next_label=EVIL, owners=(EVIL,), owner_ids=())
    entry = ProgressView(
        dt.datetime(2026, 11, 20, tzinfo=dt.UTC), EVIL, None, "amber", False, EVIL, None, None
    )
    line = ScheduleLine("deadline", TODAY, EVIL, EVIL, None)
    detail = ObjectiveDetail(s, EVIL, EVIL, (line,), (entry,))
    item = DueItem(1, EVIL, TODAY, EVIL, EVIL, False, (), "deadline")
    home = HomeModel("U1", (s,), (item,), (meeting(1),), TODAY)
    built = {
        "show": dicts(build_objective_blocks(detail)),
        "due": dicts(build_due_blocks([item], days=30, today=TODAY)),
        "home": build_home_view(home).to_dict()["blocks"],
        "channel": dicts(
            [
                section(text)
                for text in progress_channel_item(s, user_id="U1", note=EVIL, done=False, rag=None)
            ]
        ),
        "confirm": dicts(build_progress_confirmation_blocks(s, note=EVIL, done=False, rag=None)),
        "plan": dicts(build_plan_blocks([s])),
    }
    for name, blocks in built.items():
        assert not _unsafe(blocks), name
    assert "&lt;!channel&gt;" in json.dumps(built["show"])


def test_show_gives_the_as_of_date_when_set() -> None:
    at = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    dated = ProgressView(at, "Sam", "U1", "amber", False, "Panel met", dt.date(2026, 11, 20), None)
    plain = ProgressView(at, "Sam", "U1", "green", False, "Report sent", None, None)
    detail = ObjectiveDetail(summary(1), "", None, (), (dated, plain))
    text = json.dumps(dicts(build_objective_blocks(detail)))
    assert "(amber, as of 20 Nov 2026): Panel met" in text
    assert "(green): Report sent" in text


def test_month_only_next_has_no_made_up_day() -> None:
    s = summary(
        2,
        next_date=dt.date(2026, 12, 1),
        next_label="RAG meeting, December 2026 (date to be set)",
        next_month_only=True,
        overdue=False,
    )
    assert next_text(s) == "next: RAG meeting, December 2026 (date to be set)"
    item = DueItem(
        2,
        "T",
        dt.date(2026, 12, 1),
        "December 2026 (date to be set)",
        None,
        False,
        (),
        "dated",
        month_only=True,
    )
    text = json.dumps(dicts(build_due_blocks([item], days=30, today=TODAY)))
    assert "Tue 1 Dec" not in text and "in 5 days" not in text


def test_show_dates_progress_by_the_local_day() -> None:
    """Logged at 23:30 UTC on a summer date: it is already the next day in London."""
    at = dt.datetime(2026, 6, 10, 23, 30, tzinfo=dt.UTC)
    entry = ProgressView(at, "Sam", "U1", "green", False, "Report sent", None, None)
    detail = ObjectiveDetail(summary(1), "", None, (), (entry,))
    text = json.dumps(dicts(build_objective_blocks(detail)))
    assert "Thu 11 Jun 2026, <@U1>" in text and "10 Jun" not in text


def test_progress_modal_rag_is_optional_with_no_change() -> None:
    view = build_progress_modal([(1, "A"), (2, "B")]).to_dict()
    rag = next(b for b in view["blocks"] if b.get("block_id") == Ids.PROGRESS_RAG)
    assert rag["optional"] is True
    values = [o["value"] for o in rag["element"]["options"]]
    assert values[-1] == NO_CHANGE_VALUE
    assert "No change" in rag["element"]["options"][-1]["text"]["text"]
    assert rag["element"]["placeholder"]["text"] == "No change"


def test_progress_confirmation_repeats_as_of_and_link() -> None:
    blocks = build_progress_confirmation_blocks(
        summary(3),
        note="Report sent",
        done=False,
        rag=None,
        as_of=dt.date(2026, 11, 3),
        evidence_url="https://example.org/prevent-report",
    )
    text = render_text(blocks)
    assert "logged as a note" in text
    assert "As of 3 Nov 2026." in text
    assert "https://example.org/prevent-report" in text
    saved = str(
        build_progress_saved_modal(
            summary(3), done=False, as_of=dt.date(2026, 11, 3), evidence_url="https://e.org/x"
        ).to_dict()
    )
    assert "As of 3 Nov 2026." in saved and "https://e.org/x" in saved
    plain = render_text(
        build_progress_confirmation_blocks(summary(3), note="n", done=False, rag="red")
    )
    assert "As of" not in plain and "Evidence" not in plain


def _lead_referrals(waiting: int = 8) -> Any:
    from bot.referrals.models import LeadHomeReferrals, WaitingReferral

    now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    rows = tuple(
        WaitingReferral(
            reference=f"SG-2026-{i + 1:04d}",
            urgency="immediate" if i == 0 else "routine",
            created_at=now - dt.timedelta(hours=3 * (waiting - i)),
            overdue=i < 2,
        )
        for i in range(min(waiting, 5))
    )
    return LeadHomeReferrals(
        open_total=waiting + 2,
        awaiting=waiting,
        overdue=2,
        oldest_waiting=rows,
        now=now,
        zone="Europe/London",
    )


def test_home_shows_referral_counts_and_oldest_waiting_to_a_lead() -> None:
    model = HomeModel("ULEAD", (), (), (), TODAY, referrals=_lead_referrals())
    blocks = build_home_view(model).to_dict()["blocks"]
    text = render_text(blocks)
    assert "Safeguarding referrals" in text
    assert "10 open · 8 awaiting acknowledgement · 2 past their acknowledgement deadline" in text
    assert "SG-2026-0001* · Immediate risk · waiting 24 h · *past deadline" in json.dumps(
        blocks, ensure_ascii=False
    )
    views_buttons = [
        b["accessory"]["value"]
        for b in blocks
        if b.get("accessory", {}).get("action_id") == Ids.REFERRAL_VIEW
    ]
    assert views_buttons == [f"SG-2026-{i:04d}" for i in range(1, 6)]  # the oldest five
    assert "3 more awaiting" in text


def test_home_shows_nothing_of_referrals_to_anyone_else() -> None:
    text = json.dumps(build_home_view(HomeModel("U9", (), (), (), TODAY)).to_dict())
    assert "Safeguarding" not in text and "SG-" not in text
    assert str(Ids.REFERRAL_VIEW) not in text


def test_home_with_referrals_and_a_huge_plan_stays_within_100_blocks() -> None:
    model = HomeModel(
        user_id="U1",
        summaries=tuple(BIG),
        due=tuple(due(i, i % 2 == 0) for i in range(2000)),
        meetings=tuple(meeting(i) for i in range(100)),
        today=TODAY,
        referrals=_lead_referrals(40),
    )
    blocks = build_home_view(model).to_dict()["blocks"]
    assert len(blocks) <= 100
    sections_within_limits(blocks)
    assert "Safeguarding referrals" in render_text(blocks)  # near the top: never cut
