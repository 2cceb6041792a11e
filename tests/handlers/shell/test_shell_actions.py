"""The shell with an objective of several actions: the progress form asks which action."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import AppContext
from store.db import session_scope
from store.models import ProgressEntry
from tests.handlers.shell.test_shell import run_shell
from tests.handlers.test_actions import _hate_crime


def test_the_shells_progress_form_asks_which_action(seeded_ctx: AppContext) -> None:
    oid = _hate_crime(seeded_ctx)
    text = run_shell(seeded_ctx, "/csp progress hate crime\n2\n3\nTwo schools booked\n\n\n")
    assert "2. Deliver awareness training to schools" in text
    with session_scope(seeded_ctx.sessions) as session:
        entries = session.scalars(select(ProgressEntry).where(ProgressEntry.objective_id == oid))
        assert [(e.action.position, e.note) for e in entries] == [(2, "Two schools booked")]
