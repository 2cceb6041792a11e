"""`/csp setup`: admins set the name, channels, digest time, admins and leads in Slack; the
database then holds them and the environment no longer overrides them."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from bot.plan.members import ensure_partnership
from bot.plan.setup import current_setup, env_differences
from handlers.cli.sweep import start_warnings
from handlers.shell.shell import Shell
from store.db import session_scope
from store.models import Member, Partnership
from tests.fakes.slack import FakeSlack, view_submission
from tests.handlers.test_http import csp, post, words


def _open(base: str, fake: FakeSlack, user: str = "UADMIN") -> dict[str, Any]:
    reply = csp(base, fake, "setup", user=user)
    assert reply == {} or "response_type" not in reply, reply
    (opened,) = fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


def _values(
    *,
    name: str = "Essex Community Safety Partnership",
    channel: str | None = "C0ESSEX",
    safeguarding: str | None = "C0LEADSONLY",
    day: str = "tue",
    time: str = "10:30",
    admins: tuple[str, ...] = ("UADMIN", "UCHAIR"),
    leads: tuple[str, ...] = ("ULEAD",),
) -> dict[str, Any]:
    def one(block: str, **value: Any) -> dict[str, Any]:
        return {block: {block: value}}

    return {
        **one(Ids.SETUP_NAME, type="plain_text_input", value=name),
        **one(Ids.SETUP_CHANNEL, type="conversations_select", selected_conversation=channel),
        **one(
            Ids.SETUP_SAFEGUARDING, type="conversations_select", selected_conversation=safeguarding
        ),
        **one(Ids.SETUP_DIGEST_DAY, type="static_select", selected_option={"value": day}),
        **one(Ids.SETUP_DIGEST_TIME, type="static_select", selected_option={"value": time}),
        **one(Ids.SETUP_ADMINS, type="multi_users_select", selected_users=list(admins)),
        **one(Ids.SETUP_LEADS, type="multi_users_select", selected_users=list(leads)),
    }


def _submit(base: str, view: dict[str, Any], values: dict[str, Any], **kw: Any) -> dict[str, Any]:
    status, body = post(
        base,
        view_submission(Ids.SETUP_MODAL, values, private_metadata=view["private_metadata"], **kw),
    )
    assert status == 200, body
    return json.loads(body) if body else {}


def _stored(ctx: AppContext) -> tuple[Partnership, dict[str, tuple[str, bool]]]:
    with session_scope(ctx.sessions) as session:
        partnership = session.scalars(select(Partnership)).one()
        members = {
            m.slack_user_id: (str(m.role), bool(m.safeguarding_lead))
            for m in session.scalars(select(Member))
        }
        session.expunge(partnership)
    return partnership, members


def test_an_admin_sets_up_the_partnership_in_slack(
    seeded_ctx: AppContext, slack_http: str, fake_slack: FakeSlack
) -> None:
    view = _open(slack_http, fake_slack)
    assert view["callback_id"] == Ids.SETUP_MODAL
    shown = words(view)
    assert "Maldon Community Safety Partnership" in shown and "C0PARTNER" in shown
    reply = _submit(slack_http, view, _values())
    assert reply["response_action"] == "update"
    said = words(reply["view"])
    assert "Setup saved for Essex Community Safety Partnership" in said
    assert "Tuesdays at 10:30" in said and "<#C0ESSEX>" in said and "<@UCHAIR>" in said
    assert "Invite the bot" in said and "one summary" in said  # what to do next
    partnership, members = _stored(seeded_ctx)
    assert partnership.name == "Essex Community Safety Partnership"
    assert partnership.partnership_channel == "C0ESSEX"
    assert partnership.safeguarding_channel == "C0LEADSONLY"
    assert partnership.settings["digest_at"] == "tue 10:30"
    assert members["UCHAIR"] == ("admin", False) and members["ULEAD"] == ("lead", True)
    # The digest preview now carries the new name.
    assert "Essex Community Safety Partnership" in words(csp(slack_http, fake_slack, "digest"))


def test_once_set_up_the_environment_no_longer_overrides_and_start_up_says_so(
    seeded_ctx: AppContext, slack_http: str, fake_slack: FakeSlack
) -> None:
    view = _open(slack_http, fake_slack)
    _submit(slack_http, view, _values(admins=("UCHAIR",), leads=("UCHAIR",)))
    # The bot restarts with the same environment (CSP_PARTNERSHIP_CHANNEL=C0PARTNER,
    # CSP_ADMINS=UADMIN, CSP_SAFEGUARDING_LEADS=ULEAD).
    settings = seeded_ctx.settings
    with session_scope(seeded_ctx.sessions) as session:
        partnership = ensure_partnership(session, settings, now=seeded_ctx.clock.now())
        assert partnership.partnership_channel == "C0ESSEX"
        assert partnership.name == "Essex Community Safety Partnership"
        warnings = env_differences(partnership, settings, current_setup(session, partnership))
    text = " ".join(warnings)
    assert "CSP_PARTNERSHIP_CHANNEL says 'C0PARTNER'" in text and "'C0ESSEX'" in text
    assert "CSP_ADMINS" in text and "CSP_SAFEGUARDING_LEADS" in text
    # What `csp-bot start`, `run`, `serve`, `shell` and `sweep` log at start-up.
    logged = " ".join(start_warnings(seeded_ctx))
    assert "CSP_PARTNERSHIP_CHANNEL says 'C0PARTNER'" in logged and "/csp setup" in logged
    _, members = _stored(seeded_ctx)
    assert members["UADMIN"] == ("member", False)  # CSP_ADMINS no longer makes them admin
    refused = csp(slack_http, fake_slack, "setup", user="UADMIN")
    assert "Only partnership admins" in words(refused) and "<@UCHAIR>" in words(refused)


def test_a_member_is_kindly_refused(slack_http: str, fake_slack: FakeSlack) -> None:
    reply = csp(slack_http, fake_slack, "setup", user="UMEMBER")
    said = words(reply)
    assert "Only partnership admins can change the setup" in said
    assert "<@UADMIN>" in said and "/csp setup" in said
    assert fake_slack.calls_to("views.open") == []


def test_mistakes_are_explained_on_their_fields(
    seeded_ctx: AppContext, slack_http: str, fake_slack: FakeSlack
) -> None:
    view = _open(slack_http, fake_slack)
    reply = _submit(
        slack_http, view, _values(safeguarding="C0ESSEX", leads=(), admins=(), name=" ")
    )
    assert reply["response_action"] == "errors"
    errors = reply["errors"]
    assert "everyone would see them" in errors[Ids.SETUP_SAFEGUARDING]
    assert "nobody can see or act on a safeguarding referral" in errors[Ids.SETUP_LEADS]
    assert "at least one admin" in errors[Ids.SETUP_ADMINS]
    assert "name" in errors[Ids.SETUP_NAME]
    partnership, _ = _stored(seeded_ctx)
    assert partnership.partnership_channel == "C0PARTNER"  # nothing saved


def test_a_forged_or_someone_elses_form_saves_nothing(
    seeded_ctx: AppContext, slack_http: str, fake_slack: FakeSlack
) -> None:
    view = _open(slack_http, fake_slack)
    forged = dict(view, private_metadata=json.dumps({"p": 1}))
    reply = _submit(slack_http, forged, _values())
    assert reply["response_action"] == "update" and "nothing was saved" in words(reply)
    # The admin's signed form, replayed by a member.
    reply = _submit(slack_http, view, _values(), user_id="UMEMBER")
    assert reply["response_action"] == "update" and "nothing was saved" in words(reply)
    partnership, _ = _stored(seeded_ctx)
    assert partnership.name == "Maldon Community Safety Partnership"


def test_setup_in_the_shell(seeded_ctx: AppContext) -> None:
    # name, channel, safeguarding channel = the same channel (refused, then another),
    # digest day 3 (Wednesday), time kept, admins and leads kept.
    script = "/csp setup\nEssex CSP\nC0ESSEX\nC0ESSEX\n3\n\n\n\nC0LEADSONLY\n/csp help setup\n"
    out = io.StringIO()
    Shell(seeded_ctx, user_id="UADMIN").run(io.StringIO(script), out, interactive=False)
    text = out.getvalue()
    assert "! Referral alerts must not go to the partnership channel" in text
    assert "Setup saved for Essex CSP" in text and "Wednesdays at 09:00" in text
    assert "`/csp setup`" in text.split("csp> /csp help setup")[1]
    partnership, members = _stored(seeded_ctx)
    assert partnership.safeguarding_channel == "C0LEADSONLY"
    assert members["UADMIN"][0] == "admin" and members["ULEAD"] == ("lead", True)
