"""`/csp due` and `/csp progress` typed the way people say them, in the shell."""

from __future__ import annotations

import io

from bot.context import AppContext
from handlers.shell.shell import Shell


def run_shell(ctx: AppContext, script: str, user: str = "UADMIN") -> str:
    out = io.StringIO()
    Shell(ctx, user_id=user).run(io.StringIO(script), out, interactive=False)
    return out.getvalue()


def _answers(text: str) -> list[str]:
    return text.split("csp> ")[1:]


def test_due_this_week_next_month_what_is_due_and_two_weeks(seeded_ctx: AppContext) -> None:
    # The fixture's clock stands on Thursday 26 November 2026.
    text = run_shell(
        seeded_ctx,
        "/csp due this week\n/csp due next month\n/csp what is due\n/csp due 2 weeks\n"
        "/csp due today\n/csp due next week\n/csp due in 10 days\n/csp due soon\n",
    )
    week, month, what, two, today, nxt, ten, soon = _answers(text)
    assert "Due this week (to Sun 29 Nov)" in week
    assert "Due by the end of next month (Thu 31 Dec)" in month
    assert "Due in the next 30 days" in what and "I don't know the command" not in what
    assert "Due in the next 14 days" in two and "whole number" not in two
    assert "Due today" in today
    assert "Due by the end of next week (Sun 6 Dec)" in nxt
    assert "Due in the next 10 days" in ten
    assert "can't read `soon`" in soon and "/csp due this week" in soon
    assert "Usage: `/csp due [days | 2 weeks | this week | next month]`" in soon


def test_progress_with_only_the_objective_opens_the_form_with_it_chosen(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(seeded_ctx, "/csp progress DHR\n2\nPanel booked\n\n\n/csp show dhr\n")
    form, show = _answers(text)
    assert "┌ Log progress" in form
    assert "*Objective*\n│ Domestic Homicide Reviews" in form  # chosen, not asked for
    assert "Choose an objective" not in form and "Say how it is going" not in form
    assert "Progress logged as *Amber* for *Domestic Homicide Reviews*" in form
    assert "Panel booked" in show


def test_done_on_an_ongoing_objective_keeps_the_note_and_says_why(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(seeded_ctx, "/csp progress fgm done Training delivered\n/csp show fgm\n")
    done, show = _answers(text)
    assert "Progress logged as a note for *Female Genital Mutilation*" in done
    assert "Not marked done: Female Genital Mutilation is ongoing" in done
    assert "your note is saved and the objective stays open" in done
    assert "`/csp progress fgm green" in done  # what to do instead
    assert "I have not saved anything" not in done
    assert "Training delivered" in show


def test_done_with_no_note_on_an_ongoing_objective_is_still_refused(
    seeded_ctx: AppContext,
) -> None:
    [done] = _answers(run_shell(seeded_ctx, "/csp progress fgm done\n"))
    assert "is ongoing, so there is nothing dated to mark done and I have not saved" in done


def test_the_form_takes_initials_for_the_objective(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp progress\ndhr\n3\nReview panel met\n\n\n")
    [form] = _answers(text)
    assert "Type a number from 1 to" not in form
    assert "Progress logged as *Green* for *Domestic Homicide Reviews*" in form


def test_done_on_an_ongoing_objective_typed_twice_is_saved_once_and_explained(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp progress fgm done Training delivered\n/csp progress fgm done Training delivered\n"
        "/csp show fgm\n",
    )
    first, again, show = _answers(text)
    assert "Not marked done" in first and "Not marked done" in again
    assert "Done" not in again.split("Status now")[0].replace("Not marked done", "")
    assert show.count("Training delivered") == 1
