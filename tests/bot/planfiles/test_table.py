"""Reading a plan table: page breaks, continuations, encodings, columns, every problem at once."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.planfiles.read import read_plan
from bot.planfiles.table import LineProblem, clean_cell, column_for_header, split_owners
from tests.bot.planfiles.plans import (
    SEED_HEADER,
    SEED_OBJECTIVES,
    SEED_TITLE,
    assert_is_seed,
    problems_of,
    seed_bytes,
)


def test_repeated_header_at_page_break_is_skipped() -> None:
    text = (
        "Objective\tOutcome/Action\tTimescale\tProgress\n"
        "A\tdo a\tApril 2026\t\n"
        "\n"
        "Objective\tOutcome/Action\tTimescale\tProgress\n"
        "B\tdo b\tMay 2026\t\n"
    )
    plan = read_plan(text.encode(), "plan.txt")
    assert [(r.title, r.source_line) for r in plan.rows] == [("A", 2), ("B", 5)]


def test_continuation_row_appends_every_non_empty_cell() -> None:
    text = (
        "Objective\tOutcome/Action\tTimescale\tProgress\tOwner(s)\n"
        "A\tstart of the\tOngoing\tbegun\tU0AAA\n"
        "\n"
        "Objective\tOutcome/Action\tTimescale\tProgress\tOwner(s)\n"
        "\t  end of the action.\tMarch 2027\t\tU0BBB\n"
        "B\tdo b\tMay 2026\n"
    )
    plan = read_plan(text.encode(), "plan.txt")
    first, second = plan.rows
    assert first.action == "start of the end of the action."
    assert first.timescale == "Ongoing March 2027"
    assert first.progress == "begun"
    assert first.owners == ["U0AAA", "U0BBB"]
    assert first.source_line == 2
    assert second.title == "B"


def test_crlf_line_ends_read_the_same() -> None:
    crlf = seed_bytes().replace(b"\n", b"\r\n")
    plan = read_plan(crlf, "seed.txt")
    assert_is_seed(plan)
    assert not any("\r" in row.action or "\r" in row.timescale for row in plan.rows)


def test_utf8_bom_is_ignored() -> None:
    assert_is_seed(read_plan(b"\xef\xbb\xbf" + seed_bytes(), "seed.txt"))
    bom_csv = b"\xef\xbb\xbfObjective,Action\nA,do a\n"
    assert read_plan(bom_csv, "plan.csv").rows[0].title == "A"


def test_utf16_with_bom_is_read() -> None:
    assert_is_seed(read_plan(seed_bytes().decode("utf-8").encode("utf-16"), "seed.txt"))


def test_trailing_tabs_and_empty_trailing_cells_do_not_count_as_columns() -> None:
    text = "Objective\tOutcome/Action\tTimescale\tProgress\t\t\nA\tdo a\tApril 2026\t\t\t\t\t\t\n"
    plan = read_plan(text.encode(), "plan.txt")
    assert plan.rows[0].model_dump(exclude={"source_line"}) == {
        "title": "A",
        "action": "do a",
        "timescale": "April 2026",
        "progress": "",
        "owners": [],
        "statutory_basis": None,
        "status": "",
        "columns": {},
    }
    assert read_plan(b"Objective,Action,,,\nA,b,,,,,\n", "plan.csv").rows[0].action == "b"


def test_blank_and_whitespace_lines_are_skipped() -> None:
    spaced = seed_bytes().replace(b"\nPREVENT", b"\n\n   \n\t\t\t\nPREVENT")
    plan = read_plan(spaced, "seed.txt")
    assert [row.title for row in plan.rows] == SEED_OBJECTIVES
    assert plan.rows[7].source_line == 19  # three more lines above PREVENT


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\r\n\t\t\r\n"])
def test_empty_file_says_so(data: bytes) -> None:
    error = problems_of(data)
    assert "the file is empty" in str(error)
    assert "Objective" in str(error)  # shows what a plan file looks like


def test_header_only_file_has_no_objectives() -> None:
    error = problems_of((SEED_TITLE + "\n\n" + SEED_HEADER + "\t\n").encode(), "seed.txt")
    assert "no objectives" in str(error)
    assert "line 3" in str(error)


def test_no_header_row_is_explained() -> None:
    error = problems_of(b"Strategic Assessment,do it,April 2026\n")
    assert "no header row" in str(error)
    assert "Objective, Outcome/Action, Timescale, Progress" in str(error)


def test_too_many_columns_names_the_line_and_the_count() -> None:
    lines = seed_bytes().split(b"\n")
    lines[8] = lines[8] + b"\textra\tmore\t"  # line 9: Strategic management, now 6 columns
    error = problems_of(b"\n".join(lines), "plan.txt")
    assert error.problems == [
        LineProblem(
            9,
            "this row has 6 columns; expected at most 4 "
            "(Objective, Outcome/Action, Timescale, Progress)",
        )
    ]
    assert str(error).splitlines()[0] == (
        "plan.txt line 9: this row has 6 columns; expected at most 4 "
        "(Objective, Outcome/Action, Timescale, Progress)"
    )


def test_first_row_without_a_title_is_an_error_not_a_continuation() -> None:
    error = problems_of(b"Objective,Action,Timescale\n,orphan action,April 2026\nB,do b,May\n")
    assert [p.line for p in error.problems] == [2]
    assert "no Objective" in error.problems[0].message


def test_non_utf8_file_is_refused_not_guessed() -> None:
    cp1252 = "Objective,Action\nCaf\u00e9 liaison,meet \u2018owners\u2019\n".encode("cp1252")
    error = problems_of(cp1252)
    text = str(error)
    assert "is not UTF-8 text" in text
    assert "save it as UTF-8 (in Excel: CSV UTF-8)" in text
    assert "line 2" in text
    assert isinstance(error, UserError)


def test_nul_bytes_are_refused() -> None:
    assert "NUL" in str(problems_of(b"Objective,Action\nA\x00,b\n"))


def test_an_objective_written_again_is_its_next_action_and_a_repeated_row_is_reported() -> None:
    data = b"Objective,Action\nSafeguarding,one\nPREVENT,two\nsafeguarding ,three\n"
    plan = read_plan(data, "plan.csv")
    assert [[r.action for r in rows] for rows in plan.objectives()] == [["one", "three"], ["two"]]
    error = problems_of(b"Objective,Action\nSafeguarding,one\nPREVENT,two\nsafeguarding,one\n")
    assert [p.line for p in error.problems] == [4]
    assert "repeats line 2" in error.problems[0].message
    assert "delete one of the two rows" in error.problems[0].message


def test_inner_whitespace_is_normalised_but_words_kept() -> None:
    data = (
        "Objective\tAction\tTimescale\n  Public   engagement \t Attend\u00a0 events\t31 st  March\n"
    )
    row = read_plan(data.encode(), "plan.txt").rows[0]
    assert (row.title, row.action, row.timescale) == (
        "Public engagement",
        "Attend events",
        "31 st March",
    )


def test_every_problem_is_reported_together() -> None:
    data = (
        b"Objective,Action,Timescale\n"
        b",no title,April\n"
        b"A,do a,April\n"
        b"B,do b,May,surplus\n"
        b"A,do a,April\n"
    )
    error = problems_of(data)
    assert [p.line for p in error.problems] == [2, 4, 5]
    rendered = str(error).splitlines()
    assert rendered[0].startswith("plan.csv line 2: ")
    assert rendered[1].startswith("line 4: this row has 4 columns; expected at most 3")
    assert rendered[2].startswith("line 5: ")
    assert rendered[-1] == "Nothing was imported: fix the file and import it again."


def test_no_row_is_silently_dropped() -> None:
    # Each non-blank line is a title, a header, a row, a continuation or a problem.
    data = b"My plan\nObjective,Action\nA,a\nB,b\nObjective,Action\nC,c\n"
    plan = read_plan(data, "plan.csv")
    assert plan.title == "My plan"
    assert [(r.title, r.action) for r in plan.rows] == [("A", "a"), ("B", "b"), ("C", "c")]


def test_a_blank_objective_continues_a_sentence_or_starts_the_next_action() -> None:
    # The rest of a sentence joins the row above; a row with its own timescale, or a new
    # sentence after one that ended, is the next action of the objective above.
    data = b"Objective,Action,Timescale\nA,Train the,May\n,staff.\n,Audit it.,June\n,Report.\n"
    (a,) = read_plan(data, "plan.csv").objectives()
    assert [(r.title, r.action, r.timescale) for r in a] == [
        ("A", "Train the staff.", "May"),
        ("A", "Audit it.", "June"),
        ("A", "Report.", ""),
    ]
    error = problems_of(b"Objective,Action\n,first\nB,b\n")
    assert [p.line for p in error.problems] == [2]
    assert "no Objective" in str(error)
    seed = read_plan(b"Objective\tOutcome/Action\nA\ta\n\tmore\n", "plan.txt")
    assert [(r.title, r.action) for r in seed.rows] == [("A", "a more")]


def test_a_title_block_above_the_header_is_the_plan_title() -> None:
    plan = read_plan(b"Title\nA,b,c\n\n,,\nObjective,Action,Timescale\nB,b,May\n", "plan.csv")
    assert plan.title == "Title A b c"
    assert [(r.title, r.timescale, r.source_line) for r in plan.rows] == [("B", "May", 6)]


def test_text_under_a_column_with_no_heading_is_reported() -> None:
    error = problems_of(b"Objective,,Timescale\nA,lost?,May\n")
    assert "column 2 has text but no heading" in str(error)


def test_unknown_column_headings_are_kept_not_refused() -> None:
    plan = read_plan(b"Objective,Action,Budget,RAG\nA,do a,5k,green\n", "plan.csv")
    assert plan.kept_columns == ["Budget"] and plan.status_column == "RAG"
    assert plan.rows[0].columns == {"Budget": "5k", "RAG": "green"}
    assert plan.rows[0].status == "green"


def test_title_longer_than_the_store_allows_is_reported() -> None:
    error = problems_of(b"Objective,Action\n" + b"x" * 301 + b",a\n")
    assert "301 characters" in str(error)


def test_long_problem_lists_are_cut_short() -> None:
    data = b"Objective,Action\n" + b"".join(b"T%d,a,b,c\n" % i for i in range(30))
    error = problems_of(data)
    assert len(error.problems) == 30
    assert "...and 10 more." in str(error)


@pytest.mark.parametrize(
    ("heading", "column"),
    [
        ("Objective", "title"),
        (" OBJECTIVES ", "title"),
        ("Title", "title"),
        ("Outcome/Action", "action"),
        ("Outcome / Action", "action"),
        ("outcomes/actions", "action"),
        ("Action", "action"),
        ("Outcome", "title"),
        ("Theme", "title"),
        ("Priority", "title"),
        ("Actions", "action"),
        ("Action(s)", "action"),
        ("Activity", "action"),
        ("Lead agency", "owners"),
        ("Responsible", "owners"),
        ("Target date", "timescale"),
        ("Deadline", "timescale"),
        ("By when", "timescale"),
        ("Due", "timescale"),
        ("Completion date", "timescale"),
        ("Status", "status"),
        ("RAG status", "status"),
        ("Update", "progress"),
        ("Comments", "progress"),
        ("Timescale", "timescale"),
        ("Time scale", "timescale"),
        ("Progress", "progress"),
        ("Owner(s)", "owners"),
        ("Owner", "owners"),
        ("owners", "owners"),
        ("Lead", "owners"),
        ("Lead officer", "owners"),
        ("Statutory basis", "statutory_basis"),
        ("statutory_basis", "statutory_basis"),
        ("RAG", "status"),
        ("Budget", None),
        ("Outcome/Timescale", None),
        ("", None),
    ],
)
def test_header_matching_is_forgiving(heading: str, column: str | None) -> None:
    assert column_for_header(heading) == column


def test_owner_and_basis_columns() -> None:
    data = (
        b"objective;ACTION;time scale;progress;Lead;Statutory Basis\n"
        b"A;do a;April;;<@U0AAA1111>; U0BBB2222;Crime and Disorder Act 1998 s.6\n"
    )
    # The owners cell holds a ";" here, so this row has one column too many.
    assert "7 columns" in str(problems_of(data))
    quoted = data.replace(b"<@U0AAA1111>; U0BBB2222", b'"<@U0AAA1111>; U0BBB2222"')
    row = read_plan(quoted, "plan.csv").rows[0]
    assert row.owners == ["<@U0AAA1111>", "U0BBB2222"]
    assert row.statutory_basis == "Crime and Disorder Act 1998 s.6"


def test_split_owners_keeps_mentions_as_given() -> None:
    assert split_owners("<@U123>, U123ABC; <@U9|Smith, J> ;;") == [
        "<@U123>",
        "U123ABC",
        "<@U9|Smith, J>",
    ]
    assert split_owners("") == []


def test_clean_cell_collapses_whitespace_and_control_characters() -> None:
    assert clean_cell("  a\t b\r\n\x0bc\u00a0 ") == "a b c"
