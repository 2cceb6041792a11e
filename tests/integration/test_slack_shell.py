"""`csp-bot shell`: the real app driven from text, printing what Slack would show."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

from bot.context import AppContext
from handlers.shell import Shell


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
        [sys.executable, "-c", "from bot.cli import main; main()", "shell"],
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
    from bot.commands import HELP

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
        "/csp plan 0\n/csp plan 2\n/csp progress dhr Panel booked\n/csp progress dhr\n"
        "/csp show ?!\n/csp show dhr\n",
    )
    zero, two, note, bare, blank, show = text.split("csp> ")[1:]
    assert "Pages start at 1" in zero
    assert "The plan has only one page, so there is no page 2" in two
    assert "Progress logged as a note for *Domestic Homicide Reviews*" in note
    assert "Panel booked" in note and "Usage" not in note
    assert "Say how it is going" in bare
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
    assert "(amber, as of 20 Nov 2026): Panel met" in text
    shell = Shell(seeded_ctx, user_id="UADMIN")
    try:
        assert shell._where("U0SAM") == "DM to <@U0SAM>"
        assert shell._where("UADMIN") == "a direct message to you"
        assert shell._where("C0PARTNER") == "posted in #C0PARTNER"
    finally:
        shell.recorder.stop()
