"""`/csp` text parsing: pure, no Slack."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import UsageError
from bot.text import commands as c
from bot.text.help import USAGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.Help()),
        ("help", c.Help()),
        ("HELP progress", c.Help(topic="progress")),
        ("plan", c.PlanList()),
        ("plan 3", c.PlanList(page=3)),
        ("show dhr", c.Show(query="dhr")),
        ('show "Domestic Homicide Reviews"', c.Show(query="Domestic Homicide Reviews")),
        ("due", c.Due(days=30)),
        ("due 90", c.Due(days=90)),
        ("due 14 days", c.Due(days=14)),
        ("meetings", c.Meetings()),
        ("progress", c.ProgressForm()),
        ("digest", c.Digest()),
        ("refer", c.Refer()),
        ("referrals", c.Referrals()),
    ],
)
def test_simple_commands(text: str, expected: c.Command) -> None:
    assert c.parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "progress dhr amber Panel booked for March",
            c.Progress(query="dhr", rag="amber", note="Panel booked for March"),
        ),
        (
            "progress Domestic Homicide Reviews GREEN all done here",
            c.Progress(query="Domestic Homicide Reviews", rag="green", note="all done here"),
        ),
        ("progress fgm done", c.Progress(query="fgm", done=True, note="")),
        ("progress cse: trained 40 staff", c.Progress(query="cse", note="trained 40 staff")),
        (
            'progress "Green spaces" red funding cut',
            c.Progress(query="Green spaces", rag="red", note="funding cut"),
        ),
        (
            "progress dhr amber see <https://x.example/a|the minutes> &amp; notes",
            c.Progress(query="dhr", rag="amber", note="see https://x.example/a & notes"),
        ),
    ],
)
def test_progress(text: str, expected: c.Progress) -> None:
    assert c.parse_command(text) == expected


def test_progress_bare_text_is_left_for_the_plan_to_split() -> None:
    # "dhr Panel booked" is a note with no RAG change; where the name ends is decided
    # against the plan (bot.text.matching.split_objective), so the parser keeps it whole.
    assert c.parse_command("progress dhr Panel booked") == c.Progress(query="dhr Panel booked")
    assert c.parse_command("progress dhr") == c.Progress(query="dhr")


def test_plan_page_zero_and_blank_show_say_what_to_type() -> None:
    with pytest.raises(UsageError, match="Pages start at 1"):
        c.parse_command("plan 0")
    for query in ("?!", '""', "…", "- -"):
        with pytest.raises(UsageError, match="/csp show dhr"):
            c.parse_command(f"show {query}")


@pytest.mark.parametrize("mention", ["<@U123ABC|sam>", "<@U123ABC>", "U123ABC"])
def test_owner_accepts_every_mention_form(mention: str) -> None:
    assert c.parse_command(f"owner domestic homicide {mention}") == c.Owner(
        query="domestic homicide", user_ids=("U123ABC",)
    )


def test_owner_needs_a_mention() -> None:
    with pytest.raises(UsageError, match="@mention") as err:
        c.parse_command("owner dhr sam")
    assert err.value.usage == USAGE["owner"]


@pytest.mark.parametrize("role", ["admin", "LEAD", "member"])
def test_role(role: str) -> None:
    assert c.parse_command(f"role <@W42|pat> {role}") == c.SetRole(user_id="W42", role=role.lower())


@pytest.mark.parametrize("text", ["role <@U1> boss", "role pat lead", "role <@U1>"])
def test_role_errors(text: str) -> None:
    with pytest.raises(UsageError) as err:
        c.parse_command(text)
    assert err.value.usage == USAGE["role"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "meeting RAG 2027-03-14 10:00",
            c.Meeting(body="RAG", date=dt.date(2027, 3, 14), time=dt.time(10, 0)),
        ),
        (
            "meeting One Chelmsford Board 14 March 2027 2pm at Council Chamber",
            c.Meeting(
                body="One Chelmsford Board",
                date=dt.date(2027, 3, 14),
                time=dt.time(14, 0),
                place="Council Chamber",
            ),
        ),
        ("meeting Scrutiny 03/10/2027", c.Meeting(body="Scrutiny", date=dt.date(2027, 10, 3))),
    ],
)
def test_meeting(text: str, expected: c.Meeting) -> None:
    assert c.parse_command(text) == expected


@pytest.mark.parametrize("text", ["meeting RAG", "meeting RAG 14 March", "meeting RAG 2027-02-30"])
def test_meeting_errors(text: str) -> None:
    with pytest.raises(UsageError) as err:
        c.parse_command(text)
    assert err.value.usage == USAGE["meeting"]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("plan x", "plan"),
        ("plan ²", "plan"),
        ("due 0", "due"),
        ("due 9999", "due"),
        ("due ²", "due"),
        ("show", "show"),
    ],
)
def test_errors_carry_their_usage(text: str, command: str) -> None:
    with pytest.raises(UsageError) as err:
        c.parse_command(text)
    assert err.value.usage == USAGE[command]


def test_unknown_command_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match="Did you mean `/csp plan`") as err:
        c.parse_command("plna")
    assert err.value.usage == "/csp plan [page]"  # the usage of the command it looks like


def test_unknown_command_echo_is_escaped() -> None:
    with pytest.raises(UsageError) as err:
        c.parse_command("&lt;script&gt;")
    assert "<" not in str(err.value)


# ------------------------------------------------------------- second-pass wording


def test_help_for_an_unknown_command_says_so_and_suggests() -> None:
    import pytest

    from bot.errors import UsageError
    from bot.text.commands import Help, parse_command

    with pytest.raises(UsageError) as exc:
        parse_command("help xyz")
    assert "`xyz` is not a /csp command" in str(exc.value)
    with pytest.raises(UsageError) as exc:
        parse_command("help progres")
    assert "Did you mean `/csp help progress`?" in str(exc.value)
    assert parse_command("help /csp meeting") == Help(topic="meeting")
    assert parse_command("help list") == Help(topic="plan")


def test_meeting_with_an_impossible_date_says_so() -> None:
    import pytest

    from bot.errors import UsageError
    from bot.text.commands import parse_command

    for text, bad in (
        ("meeting OCB 2026-12-40", "2026-12-40"),
        ("meeting OCB 31 February 2027 10:00", "31 February 2027"),
        ("meeting OCB 31/02/2027", "31/02/2027"),
    ):
        with pytest.raises(UsageError) as exc:
            parse_command(text)
        assert f"`{bad}` is not a real date" in str(exc.value), text
        assert "2027-03-14" in str(exc.value)


def test_typed_notes_are_capped_at_3000_characters() -> None:
    import pytest

    from bot.errors import UsageError
    from bot.text.commands import NOTE_MAX, Progress, parse_command

    assert NOTE_MAX == 3000
    ok = parse_command("progress dhr amber " + "x" * 3000)
    assert isinstance(ok, Progress) and len(ok.note) == 3000
    with pytest.raises(UsageError) as exc:
        parse_command("progress dhr amber " + "x" * 12_000)
    assert "12,000 characters" in str(exc.value) and "3,000" in str(exc.value)


@pytest.mark.parametrize(
    ("note", "slip"),
    [
        ("gren Panel met", "green"),
        ("ambr risk", "amber"),
        ("Green-ish", None),
        ("grey day", None),
        ("done", None),
        ("dome built", "done"),
        ("Panel met", None),
        ("red", None),
    ],
)
def test_a_slip_for_a_status_word_is_caught(note: str, slip: str | None) -> None:
    from bot.text.commands import misspelt_status

    assert misspelt_status(note) == slip


def test_unknown_command_shows_the_usage_of_the_command_it_looks_like() -> None:
    with pytest.raises(UsageError) as info:
        c.parse_command("progres dhr green x")
    assert "Did you mean `/csp progress`?" in str(info.value)
    assert info.value.usage.startswith("/csp progress")


def test_an_impossible_meeting_time_is_named() -> None:
    with pytest.raises(UsageError) as info:
        c.parse_command("meeting RAG 2026-12-10 25:00")
    assert "`25:00` is not a time of day" in str(info.value)


def test_calendar_asks_for_the_subscribe_link() -> None:
    assert c.parse_command("calendar") == c.CalendarLink()
    assert c.parse_command("Calendar") == c.CalendarLink()
    with pytest.raises(UsageError, match="takes nothing after it") as caught:
        c.parse_command("calendar now")
    assert caught.value.usage == "/csp calendar"
