"""Plan fixtures: the seed plan loaded into the plan-level session."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.planfiles.seed import load_seed_if_empty
from bot.settings import Settings
from store.models import Partnership
from tests.conftest import NOW


@pytest.fixture
def seeded(session: Session, plan_settings: Settings) -> Partnership:
    load_seed_if_empty(session, plan_settings, now=NOW)
    return session.scalars(select(Partnership)).one()
