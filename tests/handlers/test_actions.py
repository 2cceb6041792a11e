"""An objective with several actions, used through Slack as members do: typed progress
names the action by number, the form offers the actions, reminders' buttons know theirs,
/csp show and /csp due name them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from bot.planfiles.importer import import_plan_bytes
from store.db import session_scope
from store.models import Objective, ProgressEntry
from tests.conftest import NOW
from tests.fakes.slack import FakeSlack, block_action, slash_command, view_submission
from tests.handlers.test_http import _modal_values, csp, post, words

PLAN = (
    b"Theme,Action,Lead,By when\n"
    b"Hate crime,Publish the reporting guide.,<@UADMIN>,January 2027\n"
    b",Deliver awareness training to schools,<@U0JONES>,March 2027\n"
)


def _hate_crime(ctx: AppContext) -> int:
    with session_scope(ctx.sessions) as session:
        (partnership_id,) = session.scalars(select(Objective.partnership_id).limit(1))
        from store.models import Partnership

        partnership = session.get(Partnership, partnership_id)
        assert partnership is not None
        import_plan_bytes(session, partnership, PLAN, "plan.csv", now=NOW)
        (oid,) = session.scalars(select(Objective.id).where(Objective.title == "Hate crime"))
        return oid


def _entries(ctx: AppContext, oid: int) -> list[tuple[int, str]]:
    with session_scope(ctx.sessions) as session:
        rows = session.scalars(select(ProgressEntry).where(ProgressEntry.objective_id == oid))
        return [(e.action.position, e.note) for e in rows]


def test_typed_progress_names_the_action_by_its_number(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    oid = _hate_crime(seeded_ctx)
    asked = words(csp(slack_http, fake_slack, "progress hate crime red Schools cancelled"))
    assert "Hate crime has 2 actions" in asked and "Nothing was saved" in asked
    assert "2. Deliver awareness training to schools" in asked
    assert _entries(seeded_ctx, oid) == []
    saved = words(csp(slack_http, fake_slack, "progress hate crime 2 red Schools cancelled"))
    assert "action 2. Deliver awareness training to schools" in saved
    csp(slack_http, fake_slack, "progress hate crime 1 amber Guide with the printers")
    later = words(csp(slack_http, fake_slack, "progress hate crime 2 green Schools rebooked"))
    assert "Action 2 now: :large_green_circle: Green" in later  # the action's own line,
    assert "The objective now: :large_orange_circle: Amber" in later  # then the roll-up
    assert _entries(seeded_ctx, oid) == [
        (2, "Schools cancelled"),
        (1, "Guide with the printers"),
        (2, "Schools rebooked"),
    ]
    shown = words(csp(slack_http, fake_slack, "show hate crime"))
    assert "Actions (2)" in shown and "on action 2" in shown
    assert "<@U0JONES>" in shown
    due = words(csp(slack_http, fake_slack, "due 150"))
    assert "action 1. Publish the reporting guide." in due
    assert "action 2. Deliver awareness training to schools" in due


def _opened(fake: FakeSlack) -> dict[str, Any]:
    (opened,) = fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


def test_the_form_offers_each_action_and_saves_against_the_one_chosen(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    oid = _hate_crime(seeded_ctx)
    post(slack_http, slash_command("progress", response_url=fake_slack.response_url()))
    view = _opened(fake_slack)
    options = {
        o["value"]: o["text"]["text"]
        for b in view["blocks"]
        if b.get("block_id") == Ids.PROGRESS_OBJECTIVE
        for o in b["element"]["options"]
    }
    assert options[f"{oid}:2"].startswith("Hate crime · 2. Deliver awareness")
    assert str(oid) not in options  # the objective itself is not a choice: its actions are
    values = _modal_values(f"{oid}:2", "amber", "Two schools booked")
    status, _ = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, values, private_metadata=view["private_metadata"]),
    )
    assert status == 200
    assert _entries(seeded_ctx, oid) == [(2, "Two schools booked")]


def test_a_prefilled_form_asks_which_action_and_a_reminder_button_knows_its_own(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    oid = _hate_crime(seeded_ctx)
    post(slack_http, slash_command("progress hate crime", response_url=fake_slack.response_url()))
    view = _opened(fake_slack)
    menu = next(b for b in view["blocks"] if b.get("block_id") == Ids.PROGRESS_ACTION)
    assert [o["value"] for o in menu["element"]["options"]] == ["1", "2"]
    values = _modal_values("", "green", "Guide drafted")
    del values[Ids.PROGRESS_OBJECTIVE]
    _, body = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, values, private_metadata=view["private_metadata"]),
    )
    reply = json.loads(body)
    assert reply["response_action"] == "errors"
    assert "choose which one" in reply["errors"][Ids.PROGRESS_ACTION]
    assert _entries(seeded_ctx, oid) == []
    values[Ids.PROGRESS_ACTION] = {
        Ids.PROGRESS_ACTION: {"type": "static_select", "selected_option": {"value": "1"}}
    }
    post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, values, private_metadata=view["private_metadata"]),
    )
    assert _entries(seeded_ctx, oid) == [(1, "Guide drafted")]
    # A reminder about action 2 carries it on its Log progress button.
    post(
        slack_http,
        block_action(Ids.PROGRESS_OPEN, f"{oid}:2", response_url=fake_slack.response_url()),
    )
    (_, opened) = fake_slack.wait_for("views.open", count=2)
    shown = json.dumps(opened.args["view"]["blocks"])
    assert "*Action*" in shown and "2. Deliver awareness training" in shown
    assert Ids.PROGRESS_ACTION not in shown


def _owners(ctx: AppContext, oid: int) -> list[list[str | None]]:
    with session_scope(ctx.sessions) as session:
        objective = session.get(Objective, oid)
        assert objective is not None
        return [[o.slack_user_id for o in a.owners] for a in objective.actions]


def test_owners_of_one_action_or_of_every_action(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    oid = _hate_crime(seeded_ctx)
    said = words(csp(slack_http, fake_slack, "owner hate crime 2 add <@U0KHAN>"))
    assert "now owns" in said
    assert _owners(seeded_ctx, oid) == [["UADMIN"], ["U0JONES", "U0KHAN"]]
    csp(slack_http, fake_slack, "owner hate crime <@U0LEE>")  # the objective: every action
    assert _owners(seeded_ctx, oid) == [["U0LEE"], ["U0LEE"]]
    wrong = words(csp(slack_http, fake_slack, "owner hate crime 3 add <@U0KHAN>"))
    assert "numbered 1 to 2" in wrong


def test_a_batched_update_sets_the_rag_of_the_objective_and_of_its_one_action(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    csp(slack_http, fake_slack, "progress dhr amber Panel booked")
    with session_scope(seeded_ctx.sessions) as session:
        dhr = session.scalars(
            select(Objective)
            .where(Objective.title.like("Domestic%"))
            .order_by(Objective.plan_year.desc())
        ).first()
        assert dhr is not None
        (action,) = dhr.actions
        assert (dhr.rag, action.rag) == ("amber", "amber")
        (entry,) = session.scalars(
            select(ProgressEntry).where(ProgressEntry.objective_id == dhr.id)
        )
        assert entry.action_id == action.id and entry.note == "Panel booked"
