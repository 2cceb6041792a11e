"""The weekly digest of a plan whose objectives have several actions: how each objective's
actions stand, and each due item and progress update naming its action."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from bot.notices.digest import build_digest
from bot.notices.digest_blocks import build_digest_blocks
from store.models import Partnership
from tests.several_actions import NOW, plant_several_actions


def _sections(session: Session, partnership: Partnership, now: dt.datetime) -> dict[str, str]:
    blocks = [b.to_dict() for b in build_digest_blocks(build_digest(session, partnership, now))]
    return {b["block_id"]: b["text"]["text"] for b in blocks if b["type"] == "section"}


def test_an_objective_with_several_actions_says_how_they_stand(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    text = _sections(session, partnership, NOW + dt.timedelta(hours=2))["digest_actions"]
    assert text.splitlines() == [
        "*:clipboard: Objectives with several actions*",
        "• *PREVENT*: 1 of 2 actions done; action 2 red",
        "• *Hate crime*: 0 of 2 actions done; action 2 red",
    ]


def test_the_counts_are_of_objectives_by_their_roll_up(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    digest = build_digest(session, partnership, NOW + dt.timedelta(hours=2))
    assert digest.total == 3
    # PREVENT is red (its open action 2 is), Hate crime red, the assessment amber.
    assert digest.rag_counts == {"red": 2, "amber": 1, "green": 0, "none": 0, "done": 0}


def test_progress_says_which_action_it_was_logged_against(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    text = _sections(session, partnership, NOW + dt.timedelta(hours=2))["digest_progress"]
    assert "<@UADMIN> on *PREVENT* action 2 :red_circle:: Workshops cancelled" in text
    assert "<@UADMIN> on *PREVENT* action 1 :white_check_mark: done: Trained" in text


def test_a_due_action_is_named_with_its_own_lead(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    sections = _sections(session, partnership, dt.datetime(2027, 1, 20, 9, tzinfo=dt.UTC))
    assert (
        "• *Hate crime*, action 1. Publish the reporting guide.: January 2027; <@U0KHAN>"
        in sections["digest_due"]
    )
    # The one-action objective's line is as it always was.
    assert "• *Strategic Assessment*: due Thu 30 Apr 2026; <@U0SAM>" in sections["digest_overdue"]


def test_a_plan_of_one_action_objectives_has_no_actions_section(
    session: Session, partnership: Partnership
) -> None:
    from bot.planfiles.importer import import_plan_bytes
    from tests.several_actions import plan_csv

    rows = [
        ["Objective", "Action", "Lead", "Timescale"],
        ["PREVENT", "Train frontline staff", "<@U0SMITH>", "December 2026"],
    ]
    import_plan_bytes(session, partnership, plan_csv(rows), "plan.csv", now=NOW, plan_year=2026)
    blocks = json.dumps(
        [b.to_dict() for b in build_digest_blocks(build_digest(session, partnership, NOW))]
    )
    assert "digest_actions" not in blocks and "several actions" not in blocks


def test_objective_titles_in_the_actions_section_are_escaped() -> None:
    from bot.notices.digest_model import Digest

    evil = "hi <!channel> & co"
    digest = Digest(
        partnership_name="Maldon CSP",
        today=dt.date(2026, 11, 30),
        rag_counts={},
        total=1,
        overdue=(),
        due_soon=(),
        progress=(),
        meetings=(),
        referrals=None,
        standings=((evil, "0 of 2 actions done"),),
    )
    text = json.dumps([b.to_dict() for b in build_digest_blocks(digest)])
    assert "hi &lt;!channel&gt; &amp; co" in text and "<!channel>" not in text
