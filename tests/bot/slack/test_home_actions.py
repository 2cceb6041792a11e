"""App Home on a plan whose objectives have several actions: the objective's line says how
its actions stand, and what is due names its action."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.plan.reading import due_items, list_objectives
from bot.plan.standing import action_standings, how_actions_stand
from bot.slack.home import HomeModel, build_home_view
from store.models import Partnership
from tests.several_actions import NOW, plant_several_actions


def _home(session: Session, partnership: Partnership, user: str, today: dt.date) -> str:
    model = HomeModel(
        user_id=user,
        summaries=tuple(list_objectives(session, partnership, today)),
        due=tuple(due_items(session, partnership, today, 14)),
        meetings=(),
        today=today,
        standings=action_standings(session, partnership),
    )
    blocks = build_home_view(model).to_dict()["blocks"]
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def test_my_objective_with_several_actions_says_how_they_stand(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    text = _home(session, partnership, "U0JONES", NOW.date())
    line = next(x for x in text.split("\n*") if x.startswith("PREVENT*"))
    assert "1 of 2 actions done; action 2 red" in line
    assert ":red_circle: Red" in line  # the objective's roll-up: its worst open action


def test_a_one_action_objective_line_is_as_it_always_was(
    session: Session, partnership: Partnership
) -> None:
    plant_several_actions(session, partnership)
    text = _home(session, partnership, "U0SAM", NOW.date())
    line = next(x for x in text.split("\n*") if x.startswith("Strategic Assessment*\n"))
    assert "actions" not in line


def test_what_is_due_names_its_action(session: Session, partnership: Partnership) -> None:
    plant_several_actions(session, partnership)
    text = _home(session, partnership, "U0KHAN", dt.date(2027, 1, 20))
    assert "• *Hate crime*, action 1. Publish the reporting guide.: January 2027" in text


def test_the_words_for_how_actions_stand() -> None:
    assert how_actions_stand([("done", "green"), ("open", "red"), ("open", "green")]) == (
        "1 of 3 actions done; action 2 red"
    )
    assert how_actions_stand([("open", "red"), ("open", "amber"), ("open", "red")]) == (
        "0 of 3 actions done; actions 1 and 3 red; action 2 amber"
    )
    assert how_actions_stand([("done", None), ("waived", None)]) == "2 of 2 actions done"


def test_action_standings_are_only_for_objectives_with_several(
    session: Session, partnership: Partnership
) -> None:
    found = plant_several_actions(session, partnership)
    standings = action_standings(session, partnership)
    assert standings == {
        found["PREVENT"].id: "1 of 2 actions done; action 2 red",
        found["Hate crime"].id: "0 of 2 actions done; action 2 red",
    }
