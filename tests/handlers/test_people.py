"""`/csp owner` typed in the shell: set, add and remove, and the reply lists the owners now."""

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


def test_set_with_two_people_keeps_both(seeded_ctx: AppContext) -> None:
    [answer] = _answers(run_shell(seeded_ctx, "/csp owner prevent <@U0AAA> and <@U0BBB>\n"))
    assert "@U0AAA and @U0BBB now own *PREVENT" in answer
    assert "Owners now: @U0AAA, @U0BBB." in answer
    assert "/csp owner prevent add @person" in answer  # what to do next


def test_add_then_remove_then_remove_someone_who_is_not_an_owner(
    seeded_ctx: AppContext,
) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp owner prevent <@U0AAA>\n"
        "/csp owner prevent add <@U0BBB>\n"
        "/csp owner prevent remove <@U0AAA>\n"
        "/csp owner prevent remove <@U0CCC>\n",
    )
    replace, add, remove, not_owner = _answers(text)
    assert "Owners now: @U0AAA." in replace
    assert "@U0BBB now owns" in add and "Owners now: @U0AAA, @U0BBB." in add
    assert "@U0AAA no longer owns" in remove and "Owners now: @U0BBB." in remove
    assert "now owns" not in remove
    assert "@U0CCC is not an owner of" in not_owner and "nothing changed" in not_owner
    assert "Owners now: @U0BBB." in not_owner


def test_removing_the_last_owner_says_there_is_none(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx, "/csp owner prevent <@U0AAA>\n/csp owner prevent remove <@U0AAA>\n"
    )
    assert "Owners now: no owner yet." in _answers(text)[1]


def test_a_member_is_told_to_ask_an_admin_with_every_person(seeded_ctx: AppContext) -> None:
    text = run_shell(seeded_ctx, "/csp owner prevent <@U0AAA> and <@U0BBB>\n", user="U0NOBODY")
    assert "Only partnership admins" in text
    assert "<@U0AAA> <@U0BBB>" in text or "@U0AAA @U0BBB" in text


def test_a_did_you_mean_button_applies_every_person_and_the_mode(seeded_ctx: AppContext) -> None:
    text = run_shell(
        seeded_ctx,
        "/csp owner strat <@U0AAA> and <@U0BBB>\n1\n/csp owner strat remove <@U0AAA>\n1\n",
    )
    assert "@U0AAA and @U0BBB now own *Strategic Assessment*" in text
    assert "Owners now: @U0AAA, @U0BBB." in text
    assert "@U0AAA no longer owns *Strategic Assessment*" in text
    assert "Owners now: @U0BBB." in text
