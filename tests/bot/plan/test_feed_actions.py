"""The calendar feed of a plan whose objectives have several actions: each action's dates
are events naming the action; a one-action objective's events keep their UIDs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from sqlalchemy.orm import Session

from bot.plan.feed import build_feed
from bot.planfiles.icsfile import write_ics
from store.models import Partnership
from tests.several_actions import NOW, plant_several_actions


def _events(session: Session, partnership: Partnership) -> dict[str, Any]:
    ics = write_ics(build_feed(session, partnership, NOW.date()), now=NOW)
    return {str(e["SUMMARY"]): e for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")}


def test_each_actions_deadline_is_an_event_naming_the_action(
    session: Session, partnership: Partnership
) -> None:
    found = plant_several_actions(session, partnership)
    events = _events(session, partnership)
    prevent = found["PREVENT"]
    first, second = prevent.actions
    done = events["Done: PREVENT, action 1. Train frontline staff"]
    assert done["DTSTART"].dt == dt.date(2026, 12, 31)
    due = events["Due: PREVENT, action 2. Deliver WRAP workshops to schools"]
    assert due["DTSTART"].dt == dt.date(2027, 3, 31)
    assert str(due["DESCRIPTION"]) == (
        "Action 2. Deliver WRAP workshops to schools. Timescale: March 2027. "
        "In Slack: /csp show PREVENT"
    )
    assert str(due["UID"]) == f"csp-{partnership.id}-o{prevent.id}a{second.id}-i0@csp-bot"
    assert str(done["UID"]) == f"csp-{partnership.id}-o{prevent.id}a{first.id}-i0@csp-bot"
    guide = events["Due: Hate crime, action 1. Publish the reporting guide."]
    assert guide["DTSTART"].dt == dt.date(2027, 1, 29)


def test_a_one_action_objective_keeps_its_event_and_uid(
    session: Session, partnership: Partnership
) -> None:
    found = plant_several_actions(session, partnership)
    event = _events(session, partnership)["Due: Strategic Assessment"]
    assessment = found["Strategic Assessment"]
    # The same UID as before objectives had actions: partnership, objective, item.
    assert str(event["UID"]) == f"csp-{partnership.id}-o{assessment.id}-i0@csp-bot"
    assert str(event["DESCRIPTION"]) == (
        "Timescale: April 2026. In Slack: /csp show Strategic Assessment"
    )
