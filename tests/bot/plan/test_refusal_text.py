"""Refusals that name an objective show its title literally (mrkdwn escaped)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.members import Actor
from bot.plan.progress import log_progress_result
from store.models import Objective, Partnership, Role
from tests.conftest import NOW

HOSTILE = "Safer streets <!channel> & <https://x.example/|the council page>"


def test_done_on_an_ongoing_objective_names_it_escaped(
    session: Session, seeded: Partnership
) -> None:
    dhr = session.scalars(
        select(Objective).where(
            Objective.title == "Domestic Homicide Reviews",
            Objective.plan_year == seeded.plan_year,
            Objective.partnership_id == seeded.id,
        )
    ).one()
    dhr.title = HOSTILE
    session.flush()
    admin = Actor("UADMIN", Role.ADMIN, None)
    with pytest.raises(UserError) as refused:
        log_progress_result(session, seeded, admin, dhr.id, rag=None, done=True, note="", now=NOW)
    text = str(refused.value)
    assert "is ongoing" in text
    assert "<!channel>" not in text and "<https://" not in text and " & " not in text
    assert "Safer streets &lt;!channel&gt; &amp;" in text
