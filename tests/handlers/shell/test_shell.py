"""`csp-bot shell`: the real app driven from text, printing what Slack would show."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping

from sqlalchemy import select

from bot.context import AppContext
from bot.ids import Ids
from handlers.shell.forms import shell_wording
from handlers.shell.shell import MENTION_NOTE, Shell
from store.db import session_scope
from store.models import Referral


def run_shell(ctx: AppContext, script: str, user: str = "UADMIN") -> str:
    out = io.StringIO()
    Shell(ctx, user_id=user).run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def test_commands_buttons_and_home(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp help\n/csp show strat\n2\n/csp progress dhr amber Panel booked\nhome\n"
        "/csp nonsense\n9\nquit\n/csp help\n",
    )
    assert "/csp progress" in text
    assert "[1] Strategic Assessment" in text
    assert "Strategic management of partnership functions\n=====" in text  # button 2 pressed
    assert "Progress logged as *Amber*" in text
    assert "— posted in #C0PARTNER —" in text
    assert "— App Home —" in text
    assert "I don't know the command `nonsense`" in text and "Usage: `/csp help`" in text
    assert "There is no button 9" in text
    assert text.count("csp> /csp help") == 1  # nothing after quit


def test_modal_as_a_form_with_field_errors(seeded_ctx: AppContext) -> None:
    # objective 7 (DHR), status 2 (amber), note, a future date (error), no link;
    # then the date again, left empty.
    script = "/csp progress\n7\n2\nPanel booked\n2999-01-01\n\n\n/csp show dhr\n"
    text = run_shell(seeded_ctx, script)
    assert "! The date can't be in the future" in text
    assert "Progress logged as *Amber* for *Domestic Homicide Reviews*" in text
    assert "Panel booked" in text.split("csp> /csp show dhr")[1]


def test_modal_cancelled_at_end_of_input(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp progress\n7\n")
    assert "Cancelled; nothing was saved." in text


def test_cli_shell_with_piped_stdin(seeded_ctx: AppContext) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from handlers.cli.main import main; main()", "shell"],
        input="/csp help\n/csp due\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CSP_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "csp> /csp due" in result.stdout
    assert "Overdue" in result.stdout
    assert "Traceback" not in result.stderr


ERROR_MARKS = (
    "Usage:",
    "Type `/csp help` if you need",
    "Something went wrong",
    "I couldn't",
    "I could not",
    "Only partnership admins",
    "HTTP 4",
    "HTTP 5",
)


def _help_examples() -> list[str]:
    from bot.text.help import HELP

    found = [h.example for h in HELP if h.example]
    found += [h.usage for h in HELP if not set("<[|@") & set(h.usage)]
    for line in HELP:
        found += re.findall(r"`(/csp [^`]+)`", line.description)
    return found


def test_every_help_example_works_on_the_seed_plan(seeded_ctx: AppContext) -> None:
    settings = seeded_ctx.settings.model_copy(
        update={"safeguarding_leads": [*seeded_ctx.settings.safeguarding_leads, "UADMIN"]}
    )
    ctx = AppContext(settings, seeded_ctx.engine, seeded_ctx.sessions, seeded_ctx.clock)
    examples = _help_examples()
    assert any("/csp meeting RAG" in e for e in examples)
    for example in examples:
        # Slack turns a picked @name into a mention.
        typed = re.sub(r"@([a-z]+)", lambda m: f"<@U0{m.group(1).upper()}>", example)
        text = run_shell(ctx, typed + "\n")
        assert not any(mark in text for mark in ERROR_MARKS), (example, text)


def test_meeting_bodies_are_matched_loosely_and_quotes_work(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        '/csp meeting RAG 2027-03-14 10:00\n/csp meeting "One Chelmsford Board" 2026-12-08\n'
        "/csp meeting ocb 2027-03-09\n/csp meeting Board 2025-01-01\n"
        "/csp meeting rag 2027-01-12\n/csp meeting zzz 2027-01-12\n",
    )
    assert "Meeting set for *Maldon Responsible Authorities Group*" in text
    assert "Meeting set for *One Chelmsford Board*" in text
    assert "Sun 14 Mar 2027 at 10:00" in text and "Tue 9 Mar 2027" in text
    assert "1 January 2025 is in the past" in text
    assert (
        "Moved the *Maldon Responsible Authorities Group* meeting from December 2026 "
        "(date to be set) to:\n• Tue 12 Jan 2027" in text
    )
    assert "I couldn't find a body called “zzz”" in text
    assert '"One Chelmsford Board"' in text.split("zzz")[-1]


def test_undated_meetings_have_no_made_up_day(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp due 14\n/csp plan\n/csp show strategic management\nhome\n")
    assert "Tue 1 Dec 2026" not in text
    assert "in 5 days" not in text
    assert (
        "next: Maldon Responsible Authorities Group meeting, December 2026 (date to be set)" in text
    )
    assert "One Chelmsford Board meeting, December 2026 (date to be set), no owner" in text


def test_done_says_what_it_closed(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp progress overview done\n/csp progress strategic management done\n"
        "/csp progress dhr done\n/csp show dhr\n",
    )
    overview, strategic, dhr, show = text.split("csp> ")[1:]
    assert (
        "Marked the March 2026 deadline (Maldon District Council) for *Overview and Scrutiny "
        "Committee* as met. Still open: October 2026, Maldon District Council (overdue since "
        "30 Oct)" in overview
    )
    # Its only schedule is the quarterly meetings: they keep it open, so "done" is refused.
    assert "Done · next" not in strategic and "no date set" not in strategic
    assert "/csp meeting" in strategic and "Status now" not in strategic
    assert "is ongoing, so there is nothing dated to mark done" in dhr
    assert "posted in" not in dhr
    assert "No progress logged yet." in show  # no misleading done entry


def test_wording_for_pages_bare_notes_and_blank_queries(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp plan 0\n/csp plan 2\n/csp progress dhr Panel booked\n/csp show ?!\n/csp show dhr\n",
    )
    zero, two, note, blank, show = text.split("csp> ")[1:]
    assert "Pages start at 1" in zero
    assert "The plan has only one page, so there is no page 2" in two
    assert "Progress logged as a note for *Domestic Homicide Reviews*" in note
    assert "Panel booked" in note and "Usage" not in note
    assert "closest" not in blank and "/csp show dhr" in blank
    assert "(no RAG): Panel booked" in show


REFERRAL_ANSWERS = (
    "child\n1\nroutine\nAlex\n\n\n\n\nBruise seen\n\nSchool\nTold me\nTeacher\nSchool\n"
    "Ext 123\nConsent given\n\n\n"
)


def test_two_referrals_in_one_session_get_two_references(seeded_ctx: AppContext) -> None:
    out = io.StringIO()
    shell = Shell(seeded_ctx, user_id="U0ONE")
    shell.inp, shell.out, shell.prompting = io.StringIO(REFERRAL_ANSWERS * 2), out, False
    try:
        shell.command("/csp refer")
        shell.user_id = "U0TWO"
        shell.command("/csp refer")
    finally:
        shell.recorder.stop()
    text = out.getvalue()
    assert "│   1. Child\n│   2. Adult" in text  # radio buttons are listed
    assert "│   1. Consent given" in text
    assert "SG-2026-0001" in text and "SG-2026-0002" in text, text


def test_shell_labels_and_as_of(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx, "/csp progress\n7\namber\nPanel met\n2026-11-20\n\n/csp show dhr\n"
    )
    assert "(optional) (optional" not in text
    assert "As of (optional) (Enter to skip)" in text
    assert "Progress logged as *Amber*" in text and "As of 20 Nov 2026." in text
    shell = Shell(seeded_ctx, user_id="UADMIN")
    try:
        assert shell._where("U0SAM") == "DM to <@U0SAM>"
        assert shell._where("UADMIN") == "a direct message to you"
        assert shell._where("C0PARTNER") == "posted in #C0PARTNER"
    finally:
        shell.recorder.stop()


def lead_shell(ctx: AppContext, script: str) -> tuple[str, list[dict[str, object]]]:
    """A member refers; then the lead (ULEAD) works from the shell. Returns the
    transcript and every interaction payload the shell sent."""
    out = io.StringIO()
    shell = Shell(ctx, user_id="U0ONE")
    sent: list[dict[str, object]] = []
    form = shell._form

    def recording(fields: Mapping[str, str]) -> tuple[int, str]:
        if "payload" in fields:
            sent.append(json.loads(fields["payload"]))
        return form(fields)

    shell._form = recording  # type: ignore[method-assign]
    shell.inp, shell.out, shell.prompting = io.StringIO(REFERRAL_ANSWERS + script), out, False
    try:
        shell.command("/csp refer")
        shell.user_id = "ULEAD"
        shell.command("/csp referrals")
        assert shell.buttons[2][0].text == "View"
        shell.press(3)
    finally:
        shell.recorder.stop()
    return out.getvalue(), sent


def test_a_lead_works_a_referral_from_the_view_modal(seeded_ctx: AppContext) -> None:
    script = (
        "1\n"  # Acknowledge: the view is redrawn without that button
        "3\nCalled the school\n"  # Add note
        "1\nsam\n<@ULEAD>\n"  # Assign: a name is not an id; a mention is
        "4\nPolice took it on\n"  # Close referral
        "\n"  # Enter closes the view
    )
    text, sent = lead_shell(seeded_ctx, script)
    detail = text.split("┌ Referral SG-2026-0001")[1]
    assert "[1] Acknowledge   [2] Assign   [3] Refer on   [4] Add note   [5] Close referral" in (
        detail
    )
    assert "Press a button (1 to 5), or Enter (or `back`) to close: 1" in detail
    assert "You acknowledged SG-2026-0001" in text
    assert "Press a button (1 to 4), or Enter (or `back`) to close: 3" in text
    assert "┌ Add a case note" in text and "│ Case note: Called the school" in text
    assert "Your case note was added to SG-2026-0001" in text
    assert "│ Safeguarding lead (Slack user ID, e.g. U0123ABCD): sam" in text
    assert "Type the person's Slack user ID, e.g. U0123ABCD" in text
    assert "SG-2026-0001 is closed with your outcome" in text
    assert "has been closed by" in text  # the referrer's DM, shown as it happens
    assert text.rstrip().endswith("└ Closed.")
    assert "Fill this in to save" not in text and "There is no button" not in text

    clicks = [p for p in sent if p["type"] == "block_actions"]
    in_view = clicks[1:]  # the first is View, pressed in the list message
    assert [c["actions"][0]["action_id"] for c in in_view] == [  # type: ignore[index]
        Ids.REFERRAL_ACK,
        Ids.REFERRAL_NOTE_OPEN,
        Ids.REFERRAL_ASSIGN,
        Ids.REFERRAL_CLOSE_OPEN,
    ]
    for click in in_view:
        view = click["view"]
        assert isinstance(view, dict) and view["type"] == "modal" and view["hash"]
        assert click["container"] == {"type": "view", "view_id": view["id"]}
        assert view["callback_id"] == Ids.REFERRAL_ACTION_MODAL
        assert view["private_metadata"] == "SG-2026-0001"
    assert in_view[0]["view"]["hash"] != in_view[1]["view"]["hash"]  # type: ignore[index]
    assigned = [p for p in sent if p["type"] == "view_submission"][-2]
    state = assigned["view"]["state"]["values"]  # type: ignore[index]
    assert state[Ids.REFERRAL_ASSIGNEE][Ids.REFERRAL_ASSIGNEE]["selected_user"] == "ULEAD"
    with session_scope(seeded_ctx.sessions) as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.status == "closed"
        assert referral.assigned_to == "ULEAD"


def test_a_view_modal_can_be_left_with_back(seeded_ctx: AppContext) -> None:
    text, sent = lead_shell(seeded_ctx, "9\nback\n1\n")
    assert "There is no button “9” here: type 1 to 5, or Enter (or `back`) to close." in text
    assert "└ Closed." in text
    assert len([p for p in sent if p["type"] == "block_actions"]) == 1  # only View
    assert "You acknowledged" not in text


CONSENT_NOT_SOUGHT = REFERRAL_ANSWERS.replace("Consent given\n\n", "2\n\n")


def test_an_optional_field_the_app_then_requires_does_not_loop(seeded_ctx: AppContext) -> None:
    # Consent not sought, the lawful reason skipped: the app asks for it. Enter goes back
    # to the consent question (it made the reason required); `cancel` abandons the form.
    cancelled = run_shell(seeded_ctx, "/csp refer\n" + CONSENT_NOT_SOUGHT + "cancel\n")
    assert "! Give the lawful reason for sharing without consent" in cancelled
    assert "Enter to go back and change an earlier answer, or `cancel`" in cancelled
    assert "Cancelled; nothing was saved." in cancelled and "SG-2026" not in cancelled
    with session_scope(seeded_ctx.sessions) as s:
        assert s.scalars(select(Referral)).all() == []

    saved = run_shell(seeded_ctx, "/csp refer\n" + CONSENT_NOT_SOUGHT + "A child at risk of harm\n")
    assert "SG-2026-0001" in saved and "Cancelled" not in saved


def test_shell_wording_for_dates_people_and_mentions(seeded_ctx: AppContext) -> None:
    assert (
        shell_wording("That is not a date; pick one from the calendar.")
        == "That is not a date; type it as YYYY-MM-DD."
    )
    assert (
        shell_wording("Pick the date of birth from the calendar (YYYY-MM-DD).")
        == "Type the date of birth as YYYY-MM-DD."
    )
    text = run_shell(
        seeded_ctx,
        "/csp progress\n7\namber\nPanel met\n30/02/2026\n2026-02-30\n20/11/2026\n\n"
        "/csp role @sam lead\n/csp role @jo lead\n/csp role <@U0SAM> lead\n",
    )
    assert "As of (optional) (Enter to skip) (type it as YYYY-MM-DD, e.g. 2026-11-26): " in text
    assert text.count("│ Type the date as YYYY-MM-DD (e.g. 2026-11-26) or day first, like") == 2
    assert "Progress logged as *Amber*" in text and "As of 20 Nov 2026." in text
    assert text.count(MENTION_NOTE) == 1
    assert text.index(MENTION_NOTE) > text.index("csp> /csp role @sam lead")
    quiet = run_shell(seeded_ctx, "/csp role <@U0SAM> lead\n/csp progress dhr see a@b.org\n")
    assert MENTION_NOTE not in quiet


def test_a_modal_with_buttons_and_inputs_offers_the_buttons_first(seeded_ctx: AppContext) -> None:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    def modal(note: str) -> dict[str, object]:
        return {
            "type": "modal",
            "callback_id": "mixed",
            "title": {"type": "plain_text", "text": "Mixed"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": note}},
                {
                    "type": "actions",
                    "block_id": "acts",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "redraw",
                            "value": "v",
                            "text": {"type": "plain_text", "text": "Redraw"},
                        }
                    ],
                },
                {
                    "type": "input",
                    "block_id": "who",
                    "label": {"type": "plain_text", "text": "Person"},
                    "element": {"type": "users_select", "action_id": "who"},
                },
            ],
        }

    def factory(ctx: AppContext, *, client: WebClient, **kwargs: object) -> App:
        app = App(
            client=client,
            signing_secret=str(kwargs["signing_secret"]),
            process_before_response=True,
        )

        @app.command("/mixed")
        def _open(ack: Ack, body: dict[str, str]) -> None:
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=modal("First"))

        @app.action("redraw")
        def _redraw(ack: Ack, body: dict[str, dict[str, str]]) -> None:
            ack()
            assert body["container"] == {"type": "view", "view_id": body["view"]["id"]}
            client.views_update(view_id=body["view"]["id"], view=modal("Redrawn"))

        @app.view("mixed")
        def _save(
            ack: Ack, view: dict[str, dict[str, dict[str, dict[str, dict[str, str]]]]]
        ) -> None:
            picked = view["state"]["values"]["who"]["who"]["selected_user"]
            ack(
                response_action="update",
                view={
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Done"},
                    "blocks": [
                        {"type": "section", "text": {"type": "mrkdwn", "text": f"Saved {picked}"}}
                    ],
                },
            )

        return app

    out = io.StringIO()
    shell = Shell(seeded_ctx, user_id="UADMIN", app_factory=factory)
    shell.run(io.StringIO("/mixed\n1\n\nu0sam\n"), out, interactive=False)
    text = out.getvalue()
    first, redrawn = text.split("┌ Mixed")[1:]
    assert "Press a button (1), or Enter to fill in the form, or `back` to close: 1" in first
    assert "Person" not in first  # the buttons come before the form
    assert "Redrawn" in redrawn and "│ Person (Slack user ID, e.g. U0123ABCD): u0sam" in redrawn
    assert "Saved U0SAM" in redrawn
