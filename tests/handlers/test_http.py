"""The real HTTP server with signed requests, against the fake Slack Web API."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.context import AppContext
from bot.ids import Ids
from tests.fakes.slack import (
    SIGNING_SECRET,
    FakeSlack,
    block_action,
    event_callback,
    signed_request,
    slash_command,
    view_submission,
)


def post(
    base: str,
    body: str | Mapping[str, Any],
    *,
    content_type: str = "form",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    signed, raw = signed_request(
        body, content_type=content_type, secret=secret, timestamp=timestamp
    )
    if headers is not None:
        signed = headers
    request = urllib.request.Request(f"{base}/slack/events", data=raw.encode(), headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def csp(base: str, fake: FakeSlack, text: str, user: str = "UADMIN") -> dict[str, Any]:
    status, body = post(base, slash_command(text, user_id=user, response_url=fake.response_url()))
    assert status == 200, body
    reply: dict[str, Any] = json.loads(body) if body else {}
    return reply


def words(reply: Mapping[str, Any]) -> str:
    return json.dumps(reply)


def test_health(slack_http: str) -> None:
    with urllib.request.urlopen(f"{slack_http}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True}


def test_help_and_empty(slack_http: str, fake_slack: FakeSlack) -> None:
    for text in ("help", ""):
        reply = csp(slack_http, fake_slack, text)
        assert reply["response_type"] == "ephemeral"
        assert "/csp progress" in words(reply)


def test_plan_show_due_meetings_digest(slack_http: str, fake_slack: FakeSlack) -> None:
    plan = csp(slack_http, fake_slack, "plan")
    assert "Domestic Homicide Reviews" in words(plan)
    assert len(plan["blocks"]) <= 50
    assert "page 1 of 1" in csp(slack_http, fake_slack, "plan 1")["text"]
    assert "only one page, so there is no page 7" in csp(slack_http, fake_slack, "plan 7")["text"]
    show = csp(slack_http, fake_slack, "show DHR")
    assert show["text"] == "Domestic Homicide Reviews"
    assert "Latest progress" in words(show)
    assert "overdue" in csp(slack_http, fake_slack, "due")["text"]
    assert "due in the next 90 days" in csp(slack_http, fake_slack, "due 90")["text"]
    assert "meetings" in csp(slack_http, fake_slack, "meetings")["text"]
    digest = csp(slack_http, fake_slack, "digest")
    assert digest["response_type"] == "ephemeral" and "Preview" in digest["text"]
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing went to a channel


def test_show_several_gives_buttons_then_a_click_answers(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    reply = csp(slack_http, fake_slack, "show strat")
    buttons = reply["blocks"][1]["elements"]
    assert len(buttons) == 2
    url = fake_slack.response_url()
    status, _ = post(
        slack_http,
        block_action(buttons[1]["action_id"], buttons[1]["value"], response_url=url),
    )
    assert status == 200
    (answer,) = fake_slack.wait_for("response_url")
    assert answer.args["replace_original"] is True
    assert "Strategic management" in answer.args["text"]


def test_show_nothing_matches(slack_http: str, fake_slack: FakeSlack) -> None:
    reply = csp(slack_http, fake_slack, "show qqqq")
    assert "couldn't find" in words(reply) and "/csp plan" in words(reply)


def test_typed_progress_logs_confirms_and_posts(slack_http: str, fake_slack: FakeSlack) -> None:
    reply = csp(slack_http, fake_slack, "progress dhr amber Panel booked for 3 March", "U0SAM")
    assert "Amber" in reply["text"] and "Domestic Homicide Reviews" in reply["text"]
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C0PARTNER"
    assert "<@U0SAM>" in json.dumps(posted.args["blocks"])
    show = csp(slack_http, fake_slack, "show dhr")
    assert "Panel booked for 3 March" in words(show)


def test_bad_command_shows_usage(slack_http: str, fake_slack: FakeSlack) -> None:
    reply = csp(slack_http, fake_slack, "due soon")
    assert reply["response_type"] == "ephemeral"
    assert "Usage: `/csp due [days | 2 weeks | this week | next month]`" in reply["text"]


def test_admin_only_commands(slack_http: str, fake_slack: FakeSlack) -> None:
    refused = csp(slack_http, fake_slack, "owner dhr <@U0SAM|sam>", user="U0NOBODY")
    assert "Only partnership admins" in refused["text"]
    owned = csp(slack_http, fake_slack, "owner dhr <@U0SAM|sam>")
    assert "<@U0SAM> now owns Domestic Homicide Reviews" in owned["text"]
    assert "now a safeguarding lead" in csp(slack_http, fake_slack, "role <@U0SAM> lead")["text"]
    assert (
        "Only partnership admins"
        in csp(slack_http, fake_slack, "role <@U0X> admin", user="U0NOBODY")["text"]
    )
    meeting = csp(slack_http, fake_slack, "meeting One Chelmsford Board 2026-12-08 10:00")
    assert "Meeting set" in meeting["text"]
    assert "Tue 8 Dec 2026 at 10:00" in words(csp(slack_http, fake_slack, "meetings"))


def test_refer_and_referrals_are_routed(slack_http: str, fake_slack: FakeSlack) -> None:
    status, _body = post(slack_http, slash_command("refer", response_url=fake_slack.response_url()))
    assert status == 200
    # The command is acked first; the form opens straight after.
    fake_slack.wait_for("views.open", 1, timeout=5)
    reply = csp(slack_http, fake_slack, "referrals", user="ULEAD")
    assert reply["response_type"] == "ephemeral" and reply["text"]


def _modal_values(objective: str, rag: str, note: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        Ids.PROGRESS_OBJECTIVE: {
            Ids.PROGRESS_OBJECTIVE: {
                "type": "static_select",
                "selected_option": {"value": objective},
            }
        },
        Ids.PROGRESS_RAG: {
            Ids.PROGRESS_RAG: {"type": "static_select", "selected_option": {"value": rag}}
        },
        Ids.PROGRESS_NOTE: {Ids.PROGRESS_NOTE: {"type": "plain_text_input", "value": note}},
        Ids.PROGRESS_DATE: {Ids.PROGRESS_DATE: {"type": "datepicker", "selected_date": None}},
        Ids.PROGRESS_EVIDENCE: {Ids.PROGRESS_EVIDENCE: {"type": "url_text_input", "value": None}},
    }
    values.update(extra)
    return values


def test_progress_modal_open_and_submit(slack_http: str, fake_slack: FakeSlack) -> None:
    response_url = fake_slack.response_url()
    started = time.monotonic()
    status, body = post(slack_http, slash_command("progress", response_url=response_url))
    assert status == 200 and body == ""
    (opened,) = fake_slack.wait_for("views.open")
    assert opened.at - started < 3.0
    view = opened.args["view"]
    assert view["callback_id"] == Ids.PROGRESS_MODAL
    options = view["blocks"][0]["element"]["options"]
    dhr = next(o["value"] for o in options if o["text"]["text"] == "Domestic Homicide Reviews")

    bad = _modal_values(
        dhr,
        "green",
        "   ",
        **{
            Ids.PROGRESS_DATE: {Ids.PROGRESS_DATE: {"selected_date": "2030-01-01"}},
            Ids.PROGRESS_EVIDENCE: {Ids.PROGRESS_EVIDENCE: {"value": "ftp://nope"}},
        },
    )
    status, body = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, bad, private_metadata=view["private_metadata"]),
    )
    errors = json.loads(body)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {Ids.PROGRESS_NOTE, Ids.PROGRESS_DATE, Ids.PROGRESS_EVIDENCE}

    # DHR is ongoing: "done" has nothing to close, so the form says so on the field.
    ongoing = _modal_values(dhr, "done", "Review closed with the Home Office")
    status, body = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, ongoing, private_metadata=view["private_metadata"]),
    )
    assert json.loads(body)["errors"][Ids.PROGRESS_RAG].startswith("This objective is ongoing")

    good = _modal_values(dhr, "green", "Review closed with the Home Office")
    status, body = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, good, private_metadata=view["private_metadata"]),
    )
    assert status == 200 and body == ""
    (confirmed,) = fake_slack.wait_for("response_url")
    assert confirmed.args["response_type"] == "ephemeral"
    assert "Domestic Homicide Reviews" in confirmed.args["text"]
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C0PARTNER"


def test_log_progress_button_opens_prefilled_modal_and_saves(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    plan = csp(slack_http, fake_slack, "plan")
    button = next(b["accessory"] for b in plan["blocks"] if "accessory" in b)
    status, _ = post(
        slack_http,
        block_action(button["action_id"], button["value"], channel_id=None, view={"id": "VHOME"}),
    )
    assert status == 200
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    assert json.loads(view["private_metadata"])["objective_id"] == int(button["value"])
    values = _modal_values("", "green", "On track")
    del values[Ids.PROGRESS_OBJECTIVE]
    status, body = post(
        slack_http,
        view_submission(Ids.PROGRESS_MODAL, values, private_metadata=view["private_metadata"]),
    )
    reply = json.loads(body)
    assert reply["response_action"] == "update"
    assert "Progress saved" in json.dumps(reply["view"])


def test_app_home_opened_publishes_the_dashboard(slack_http: str, fake_slack: FakeSlack) -> None:
    event = {"type": "app_home_opened", "user": "U0SAM", "channel": "D1", "tab": "home"}
    status, _ = post(slack_http, event_callback(event), content_type="json")
    assert status == 200
    (published,) = fake_slack.wait_for("views.publish")
    assert published.args["user_id"] == "U0SAM"
    assert published.args["view"]["type"] == "home"
    assert len(published.args["view"]["blocks"]) <= 100


def test_url_verification(slack_http: str) -> None:
    body = {"token": "t", "challenge": "abc123", "type": "url_verification"}
    status, reply = post(slack_http, body, content_type="json")
    assert status == 200 and json.loads(reply) == {"challenge": "abc123"}


@pytest.mark.parametrize("case", ["unsigned", "bad secret", "stale", "future", "tampered"])
def test_bad_signatures_get_401(slack_http: str, fake_slack: FakeSlack, case: str) -> None:
    body = slash_command("help")
    kwargs: dict[str, Any] = {}
    if case == "unsigned":
        kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
    elif case == "bad secret":
        kwargs["secret"] = "wrong"
    elif case == "stale":
        kwargs["timestamp"] = int(time.time()) - 301
    elif case == "future":
        kwargs["timestamp"] = int(time.time()) + 400
    elif case == "tampered":
        headers, _ = signed_request(slash_command("plan"))
        kwargs["headers"] = headers
    status, _ = post(slack_http, body, **kwargs)
    assert status == 401
    assert fake_slack.calls == []


def test_unexpected_error_gives_a_reference(
    slack_http: str,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import handlers.commands

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database fell over")

    monkeypatch.setattr(handlers.commands, "due_items", broken)
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    reply = csp(slack_http, fake_slack, "due")
    assert "Something went wrong on our side (reference" in reply["text"]
    assert "database fell over" not in reply["text"]
    reference = reply["text"].split("reference ")[1][:6]
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info is not None


def test_failed_request_saves_nothing(
    slack_http: str,
    seeded_ctx: AppContext,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import handlers.commands
    import handlers.progress
    import handlers.progress_batch

    # The unit of work's own rollback: saved one at a time (as on PostgreSQL, or "done").
    monkeypatch.setattr(handlers.progress_batch, "writer_for", lambda ctx: None)
    real = handlers.progress.save_progress

    def save_then_fail(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise RuntimeError("after the write")

    monkeypatch.setattr(handlers.commands, "save_progress", save_then_fail)
    csp(slack_http, fake_slack, "progress dhr red Lost")
    monkeypatch.setattr(handlers.commands, "save_progress", real)
    assert "Lost" not in words(csp(slack_http, fake_slack, "show dhr"))


SLACKISH = st.one_of(
    st.text(max_size=4000),
    st.sampled_from(
        [
            "<@U123|sam>",
            "<#C1|general>",
            "<!here>",
            "&lt;script&gt;",
            "'; DROP TABLE objective;--",
            "{{7*7}}",
            "${jndi:ldap://x}",
            "\x00",
            "progress",
            "owner",
            "role",
            "meeting",
            "show",
            "due",
            "plan",
            "progress dhr",
            "<https://evil.example|click>",
            "\u202e",
            "🙂" * 50,
        ]
    ),
)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(SLACKISH, min_size=1, max_size=4))
def test_any_text_gets_a_helpful_200(
    slack_http: str, fake_slack: FakeSlack, parts: list[str]
) -> None:
    text = " ".join(parts)[:4000]
    status, body = post(slack_http, slash_command(text, response_url=fake_slack.response_url()))
    assert status == 200
    assert "Traceback" not in body and "Something went wrong" not in body
    if body:
        reply = json.loads(body)
        assert reply.get("text")
        assert reply.get("response_type", "ephemeral") == "ephemeral"


def _mrkdwn(node: Any) -> list[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [str(node.get("text", ""))]
        return [t for value in node.values() for t in _mrkdwn(value)]
    if isinstance(node, list):
        return [t for value in node for t in _mrkdwn(value)]
    return []


def test_a_typed_special_mention_is_never_rendered_live(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    # What Slack sends when someone types `<!channel> <https://evil.example|click here>`.
    typed = "hi &lt;!channel&gt; &lt;https://evil.example|click here&gt;"
    csp(slack_http, fake_slack, f"progress dhr amber {typed}", "U0SAM")
    (posted,) = fake_slack.wait_for("chat.postMessage")
    answers = {
        "channel": posted.args["blocks"],
        "show": csp(slack_http, fake_slack, "show dhr")["blocks"],
        "digest": csp(slack_http, fake_slack, "digest")["blocks"],
        "due": csp(slack_http, fake_slack, "due 120")["blocks"],
    }
    for name, blocks in answers.items():
        texts = _mrkdwn(blocks)
        assert not any("<!channel>" in t or "<https://evil" in t for t in texts), name
    assert "&lt;!channel&gt;" in json.dumps(answers["digest"])
    assert "&lt;!channel&gt;" in json.dumps(answers["show"])


def test_roles_listed_in_settings_win_and_help_explains_roles(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    reply = csp(slack_http, fake_slack, "role <@UADMIN> member")
    assert "stay an admin while listed in CSP_ADMINS" in reply["text"]
    assert "is now a member" not in reply["text"]
    lead = csp(slack_http, fake_slack, "role <@ULEAD> member")["text"]
    assert "stay a safeguarding lead while listed in CSP_SAFEGUARDING_LEADS" in lead
    help_text = words(csp(slack_http, fake_slack, "help role"))
    assert "*lead*: a safeguarding lead, who sees and handles referrals" in help_text


def test_an_error_after_saving_does_not_claim_nothing_was_saved(
    slack_http: str, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.commands
    import handlers.progress_batch

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the confirmation fell over")

    monkeypatch.setattr(handlers.commands, "build_progress_confirmation_blocks", broken)
    monkeypatch.setattr(handlers.progress_batch, "build_progress_confirmation_blocks", broken)
    answer = csp(slack_http, fake_slack, "progress dhr amber Panel booked for 3 March")
    failure = str(answer.get("text", ""))  # the reply failed before the ack: said in the ack
    assert "Something went wrong" in failure
    assert "may already be saved" in failure and "Nothing was saved" not in failure
