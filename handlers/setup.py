"""`/csp setup`: the admins' form for the partnership's name, channels, digest time and people.

Opening it is admin-only (members are told who to ask). The submission's
``private_metadata`` is signed for the admin who opened it (:mod:`handlers.metadata`)
and checked, and the admin's role is checked again, before anything is saved; bad
fields go back as field errors that say why. The saved modal says what is now set and
what to do next.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.errors import NotAllowed
from bot.ids import Ids
from bot.plan.members import members_with_role
from bot.plan.setup import SetupValues, current_setup, save_setup, setup_problems
from bot.slack.blocks import build_message_modal
from bot.slack.setup import build_setup_modal, build_setup_saved_modal
from handlers.metadata import sign_metadata, verified_metadata
from handlers.uow import Unit, unit_of, unit_of_work
from store.models import Role

log = logging.getLogger(__name__)

_FIELDS = {
    "name": Ids.SETUP_NAME,
    "partnership_channel": Ids.SETUP_CHANNEL,
    "safeguarding_channel": Ids.SETUP_SAFEGUARDING,
    "digest_day": Ids.SETUP_DIGEST_DAY,
    "digest_time": Ids.SETUP_DIGEST_TIME,
    "admins": Ids.SETUP_ADMINS,
    "leads": Ids.SETUP_LEADS,
}


def register(app: App, ctx: AppContext) -> None:
    app.view(Ids.SETUP_MODAL)(unit_of_work(submit_setup))


def _refuse(unit: Unit) -> NotAllowed:
    admins = members_with_role(unit.session, unit.partnership, Role.ADMIN)
    who = ", ".join(f"<@{a}>" for a in admins[:5]) if admins else "whoever runs the bot"
    return NotAllowed(
        "Only partnership admins can change the setup (the channels, the digest time, "
        f"admins and leads). Ask {who} to run `/csp setup`, or to make you an admin with "
        "`/csp role @you admin`."
    )


def open_setup(unit: Unit, *, body: dict[str, Any], client: WebClient, ack: Ack) -> None:
    """`/csp setup`: the form for an admin, or a kind refusal (raised) for anyone else."""
    if not unit.me.is_admin:
        raise _refuse(unit)
    values = current_setup(
        unit.session, unit.partnership, digest_default=unit.ctx.settings.digest_cron
    )
    view: dict[str, Any] = build_setup_modal(
        values, private_metadata={"p": unit.partnership.id}
    ).to_dict()
    carried = json.loads(view.get("private_metadata") or "{}")
    view["private_metadata"] = sign_metadata(unit.ctx.settings, carried, unit.me.slack_user_id)
    unit.commit()
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _state(values: dict[str, Any], block: str) -> dict[str, Any]:
    found = values.get(block, {}).get(block)
    return found if isinstance(found, dict) else {}


def _chosen(values: dict[str, Any], block: str) -> str:
    selected = _state(values, block).get("selected_option") or {}
    return str(selected.get("value") or "") if isinstance(selected, dict) else ""


def _users(values: dict[str, Any], block: str) -> tuple[str, ...]:
    found = _state(values, block).get("selected_users") or []
    return tuple(dict.fromkeys(str(u) for u in found if u)) if isinstance(found, list) else ()


def read_form(values: dict[str, Any]) -> SetupValues:
    """The submitted form as setup values (not yet checked)."""
    return SetupValues(
        name=str(_state(values, Ids.SETUP_NAME).get("value") or "").strip(),
        partnership_channel=_state(values, Ids.SETUP_CHANNEL).get("selected_conversation") or None,
        safeguarding_channel=_state(values, Ids.SETUP_SAFEGUARDING).get("selected_conversation")
        or None,
        digest_day=_chosen(values, Ids.SETUP_DIGEST_DAY),
        digest_time=_chosen(values, Ids.SETUP_DIGEST_TIME),
        admins=_users(values, Ids.SETUP_ADMINS),
        leads=_users(values, Ids.SETUP_LEADS),
    )


def submit_setup(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    unit = unit_of(context)
    view = body["view"]
    meta = verified_metadata(
        unit.ctx.settings, str(view.get("private_metadata") or ""), unit.me.slack_user_id
    )
    if meta is None or meta.get("p") != unit.partnership.id:
        log.warning("refused a setup form whose private_metadata failed its signature check")
        ack(
            response_action="update",
            view=build_message_modal(
                "Form not accepted",
                "This form could not be checked, so nothing was saved. Close it and open "
                "a new one with `/csp setup`.",
            ),
        )
        return
    if not unit.me.is_admin:
        ack(
            response_action="update",
            view=build_message_modal("Not saved", str(_refuse(unit))),
        )
        return
    values = read_form(view.get("state", {}).get("values", {}))
    problems = setup_problems(unit.session, unit.partnership, values)
    if problems:
        ack(
            response_action="errors",
            errors={_FIELDS[field]: message for field, message in problems.items()},
        )
        return
    result = save_setup(unit.session, unit.partnership, unit.me, values, now=unit.now)
    unit.commit()
    log.info("setup saved by %s", unit.me.slack_user_id)
    ack(response_action="update", view=build_setup_saved_modal(result))
