"""App Home: the partnership dashboard, published when a member opens the tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.plan.meetings import upcoming_meetings
from bot.plan.reading import due_items, list_objectives
from bot.plan.standing import action_standings
from bot.referrals import counts as referrals
from bot.slack.home import HomeModel, build_home_view
from handlers.uow import Unit, unit_of, unit_of_work

HOME_DUE_DAYS = 14


def register(app: App, ctx: AppContext) -> None:
    app.event("app_home_opened")(unit_of_work(home_opened))


def home_model(unit: Unit, user_id: str) -> HomeModel:
    session, partnership, today = unit.session, unit.partnership, unit.today
    return HomeModel(
        user_id=user_id,
        summaries=tuple(list_objectives(session, partnership, today)),
        due=tuple(due_items(session, partnership, today, HOME_DUE_DAYS)),
        meetings=tuple(upcoming_meetings(session, partnership, today)[:10]),
        standings=action_standings(session, partnership),
        today=today,
        is_admin=unit.actor is not None and unit.actor.is_admin,
        referrals=referrals.home_referrals(session, partnership, unit.actor, now=unit.now)
        if unit.actor is not None
        else None,
    )


def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home":
        return
    user_id = str(event.get("user") or "")
    if not user_id:
        return
    unit = unit_of(context)
    view = build_home_view(home_model(unit, user_id))
    unit.commit()  # a first visit records the member: save it before calling Slack
    client.views_publish(user_id=user_id, view=view)
