"""Owners' display names read from Slack (users.info), cached on the member, read again
when a week old, and kept when Slack cannot be asked."""

from __future__ import annotations

import datetime as dt

from bot.context import AppContext
from bot.plan.members import ensure_partnership, resolve_actor
from bot.plan.names import display_names, stale_names
from handlers.app import make_client
from handlers.names import name_of, owner_names
from store.db import session_scope
from tests.bot.plan.exported import export_plan_fixture
from tests.conftest import NOW
from tests.fakes.slack import FakeSlack


def _names(ctx: AppContext, now: dt.datetime, *, ask_slack: bool = True) -> dict[str, str]:
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=now)
        client = make_client(ctx.settings) if ask_slack else None
        return owner_names(session, partnership, client, now=now)


def test_names_come_from_slack_and_are_cached_for_a_week(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    with session_scope(ctx.sessions) as session:
        export_plan_fixture(session, ensure_partnership(session, ctx.settings, now=NOW))
    fake_slack.set_user("U0SAM", profile={"display_name": "Sam Officer", "real_name": "Sam O"})
    fake_slack.set_user("U0NONAME", profile={"display_name": "", "real_name": ""}, real_name="")
    assert _names(ctx, NOW) == {"U0SAM": "Sam Officer", "U0NONAME": "u0noname"}
    asked = len(fake_slack.calls_to("users.info"))
    assert asked == 2
    fake_slack.set_user("U0SAM", profile={"display_name": "Sam Renamed"})
    assert _names(ctx, NOW + dt.timedelta(days=6))["U0SAM"] == "Sam Officer"
    assert len(fake_slack.calls_to("users.info")) == asked  # fresh: not asked again
    assert _names(ctx, NOW + dt.timedelta(days=7))["U0SAM"] == "Sam Renamed"


def test_a_slash_command_does_not_replace_the_name_read_from_slack(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    with session_scope(ctx.sessions) as session:
        export_plan_fixture(session, ensure_partnership(session, ctx.settings, now=NOW))
    fake_slack.set_user("U0SAM", profile={"display_name": "Sam Officer"})
    assert _names(ctx, NOW)["U0SAM"] == "Sam Officer"
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=NOW)
        # What a request carries: the handle, not the display name.
        actor = resolve_actor(session, partnership, "U0SAM", now=NOW, display_name="u0sam")
        assert actor.display_name == "Sam Officer"
    assert _names(ctx, NOW, ask_slack=False)["U0SAM"] == "Sam Officer"


def test_when_slack_cannot_answer_the_cached_name_or_the_id_is_used(
    ctx: AppContext, fake_slack: FakeSlack
) -> None:
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=NOW)
        export_plan_fixture(session, partnership)
    fake_slack.fail_next("users.info", times=5, error="user_not_found")
    assert _names(ctx, NOW) == {}  # no names: the workbook shows the ids
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=NOW)
        assert stale_names(session, partnership, ["U0SAM"], now=NOW) == ["U0SAM"]
        assert display_names(session, partnership, ["U0SAM"]) == {}


def test_the_name_slack_shows() -> None:
    assert name_of({"name": "sam", "profile": {"display_name": " Sam ", "real_name": "S"}}) == "Sam"
    assert name_of({"name": "sam", "real_name": "Sam Real", "profile": {}}) == "Sam Real"
    assert name_of({"name": "sam"}) == "sam"
    assert name_of({}) is None
