"""The referral form in the shell: an optional field accepts no value, a day-first date of
birth is read as Slack's date picker would send it, and a closed referral offers no Close."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.context import AppContext
from handlers.shell.shell import Shell
from store.db import session_scope
from store.models import Referral
from tests.handlers.shell.test_shell import REFERRAL_ANSWERS, lead_shell

CONSENT_NOT_SOUGHT = REFERRAL_ANSWERS.replace("Consent given\n\n", "2\n\n")


def run_shell(ctx: AppContext, script: str, user: str = "U0MEMBER") -> str:
    out = io.StringIO()
    Shell(ctx, user_id=user).run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def test_enter_on_the_lawful_reason_goes_back_to_consent_and_the_referral_is_kept(
    seeded_ctx: AppContext,
) -> None:
    # Consent "not sought", reason skipped: the app needs a reason. Enter on it goes back
    # to "Consent to share", where the person says consent was given after all; every
    # other answer is kept, and Enter on the reason is then accepted.
    text = run_shell(seeded_ctx, "/csp refer\n" + CONSENT_NOT_SOUGHT + "\n1\n\n\n")
    assert "Lawful reason for sharing without consent (required if consent" in text
    assert "(Enter to skip if it does not apply)" in text
    assert "(optional, Enter to skip): \n│ Actions" not in text.split("Lawful reason", 1)[1][:200]
    assert "Back to “Consent to share”" in text
    assert "Consent to share [Consent not sought] (number): 1" in text
    assert "SG-2026-0001" in text and "Cancelled" not in text
    with session_scope(seeded_ctx.sessions) as s:
        assert len(s.scalars(select(Referral)).all()) == 1


def test_a_day_first_date_of_birth_is_accepted(seeded_ctx: AppContext) -> None:
    answers = REFERRAL_ANSWERS.replace("Alex\n\n", "Alex\n17/03/2017\n", 1)
    text = run_shell(seeded_ctx, "/csp refer\n" + answers)
    assert "Date of birth (optional, Enter to skip)" in text and "17/03/2017" in text
    assert "Type the date as YYYY-MM-DD" not in text
    assert "SG-2026-0001" in text
    lead = run_shell(seeded_ctx, "/csp referrals\n3\n\n", user="ULEAD")
    assert "17 Mar 2017" in lead or "2017-03-17" in lead or "17 March 2017" in lead


def test_an_impossible_day_first_date_is_asked_again(seeded_ctx: AppContext) -> None:
    answers = REFERRAL_ANSWERS.replace("Alex\n\n", "Alex\n31/02/2017\n\n", 1)
    text = run_shell(seeded_ctx, "/csp refer\n" + answers)
    assert "or day first, like 17/03/2017" in text
    assert "SG-2026-0001" in text


def test_a_closed_referrals_window_offers_no_close(seeded_ctx: AppContext) -> None:
    text, _sent = lead_shell(seeded_ctx, "5\nPolice took it on\n\n")
    after = text.split("SG-2026-0001 is closed with your outcome", 1)[1]
    assert "Close referral" not in after
    assert "Press a button" not in after
    assert "Police took it on" in after  # the window underneath, redrawn as it is now
    assert after.rstrip().endswith("└ Closed.")
