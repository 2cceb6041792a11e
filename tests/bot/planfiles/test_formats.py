"""Plan file reading and writing: the seed table, CSV, XLSX and JSON, with no DB and no Slack."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from bot.errors import UserError
from bot.planfiles.formats import (
    COLUMN_LABELS,
    LineProblem,
    ParsedPlan,
    PlanFileError,
    PlanRow,
    clean_cell,
    column_for_header,
    load_seed_plan,
    read_plan,
    seed_plan_bytes,
    split_owners,
    write_plan_csv,
    write_plan_xlsx,
)
from tests.paths import DATA, SEED, SHARED_SEED

SEED_COPY = SEED
REAL_SEED = SHARED_SEED
SEED_TITLE = "Maldon Community Safety Partnership (CSP) Statutory Functions"
SEED_HEADER = "Objective\tOutcome/Action\tTimescale\tProgress"
SEED_OBJECTIVES = [
    "Strategic Assessment",
    "Partnership Plan",
    "Overview and Scrutiny Committee",
    "Strategic management of partnership functions",
    "Public engagement",
    "Perceptions of crime survey",
    "Domestic Homicide Reviews",
    "PREVENT",
    "Human Slavery/Trafficking",
    "Female Genital Mutilation",
    "Safeguarding",
    "Child Sexual Exploitation",
    "Reducing Reoffending",
]
SEED_TIMESCALES = [
    "April 2016",
    "April 2016",
    "March and October 2016 for Maldon District Council and February 2017 for "
    "Chelmsford City Council",
    "Maldon Responsible Authorities Group and One Chelmsford Board meetings are programmed "
    "for March, June, September, December 2016 and March 2017.",
    "Ongoing",
    "31 st March annually",
    "Ongoing",
    "Ongoing March 2016 May 2016 May 2016",
    "Ongoing",
    "Ongoing",
    "Ongoing",
    "Ongoing March 2016",
    "Ongoing",
]
DHR_ACTION = (
    "Act as a led for the District/City should a domestic homicide occur. Pull together all "
    "incidents and information from partner agencies and make recommendations for future "
    "practice."
)


def seed_bytes() -> bytes:
    return SEED_COPY.read_bytes()


def problems_of(data: bytes, filename: str = "plan.csv") -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        read_plan(data, filename)
    return caught.value


def without_lines(plan: ParsedPlan) -> list[dict[str, object]]:
    return [row.model_dump(exclude={"source_line"}) for row in plan.rows]


def assert_is_seed(plan: ParsedPlan) -> None:
    assert plan.format == "seed"
    assert plan.title == SEED_TITLE
    assert [row.title for row in plan.rows] == SEED_OBJECTIVES
    assert [row.timescale for row in plan.rows] == SEED_TIMESCALES
    by_title = {row.title: row for row in plan.rows}
    assert by_title["Domestic Homicide Reviews"].action == DHR_ACTION
    assert by_title["Safeguarding"].action.endswith("concerns around safeguarding")
    assert all(row.progress == "" and row.owners == [] for row in plan.rows)
    assert all(row.statutory_basis is None for row in plan.rows)
    # Lines: 2 blank, title, blank, header, then rows from line 6; the page break
    # (blank, header, continuation) sits on lines 13-15.
    assert [row.source_line for row in plan.rows] == [6, 7, 8, 9, 10, 11, 12, *range(16, 22)]


# --- the seed ------------------------------------------------------------------------------


def test_seed_copy_parses_to_the_thirteen_objectives() -> None:
    assert_is_seed(read_plan(seed_bytes(), "maldon-csp-statutory-functions-2016.txt"))


@pytest.mark.skipif(not REAL_SEED.exists(), reason="shared seed not present")
def test_real_seed_parses_to_the_thirteen_objectives() -> None:
    assert REAL_SEED.read_bytes() == seed_bytes()
    assert_is_seed(read_plan(REAL_SEED.read_bytes(), REAL_SEED.name))


def test_seed_shape_is_what_the_parser_is_tested_against() -> None:
    data = seed_bytes()
    assert data.startswith(b"\n\n" + SEED_TITLE.encode() + b"\n\n" + SEED_HEADER.encode())
    assert not data.endswith(b"\n")
    assert data.count(SEED_HEADER.encode()) == 2
    assert b"\n\tpartner agencies and make recommendations for future practice.\t\t\n" in data


def test_shipped_seed_is_the_same_bytes_and_loads_with_statutory_basis() -> None:
    assert seed_plan_bytes() == seed_bytes()
    plan = load_seed_plan()
    assert [row.title for row in plan.rows] == SEED_OBJECTIVES
    basis = {row.title: row.statutory_basis for row in plan.rows}
    assert basis["Domestic Homicide Reviews"] == "Domestic Violence, Crime and Victims Act 2004 s.9"
    assert "Modern Slavery Act 2015 s.52" in str(basis["Human Slavery/Trafficking"])
    assert basis["Public engagement"] is None  # no statute named for it: left for a person
    assert all(
        row.statutory_basis is None for row in load_seed_plan(with_statutory_basis=False).rows
    )


def test_seed_with_no_extension_is_detected_by_its_tabs() -> None:
    assert_is_seed(read_plan(seed_bytes(), "plan"))


# --- edge cases of the table -----------------------------------------------------------------


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


def test_empty_xlsx_says_so() -> None:
    workbook = openpyxl.Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert "empty" in str(problems_of(buffer.getvalue(), "plan.xlsx"))
    assert "the file is empty" in str(problems_of(b"", "plan.xlsx"))


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


def test_duplicate_titles_name_both_lines() -> None:
    data = b"Objective,Action\nSafeguarding,one\nPREVENT,two\nsafeguarding ,three\n"
    error = problems_of(data)
    assert [p.line for p in error.problems] == [4]
    assert "line 2" in error.problems[0].message
    assert "safeguarding" in error.problems[0].message


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
        b"A,again,June\n"
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


def test_a_spreadsheet_row_without_a_title_is_reported_not_merged() -> None:
    # Only the Word table's page break continues a row; in CSV each blank title is shown.
    error = problems_of(b"Objective,Action\nA,a\n,more\nB,b\n,again\n")
    assert [p.line for p in error.problems] == [3, 5]
    assert "no Objective" in str(error)
    seed = read_plan(b"Objective\tOutcome/Action\nA\ta\n\tmore\n", "plan.txt")
    assert [(r.title, r.action) for r in seed.rows] == [("A", "a more")]


def test_data_before_the_header_is_reported() -> None:
    error = problems_of(b"Title\nA,b,c\nObjective,Action,Timescale\nB,b,May\n")
    assert [p.line for p in error.problems] == [2]
    assert "before the header row" in error.problems[0].message


def test_text_under_a_column_with_no_heading_is_reported() -> None:
    error = problems_of(b"Objective,,Timescale\nA,lost?,May\n")
    assert "column 2 has text but no heading" in str(error)


def test_unknown_column_heading_is_reported() -> None:
    error = problems_of(b"Objective,Action,RAG\nA,do a,green\n")
    assert 'column 3 is headed "RAG"' in str(error)


def test_title_longer_than_the_store_allows_is_reported() -> None:
    error = problems_of(b"Objective,Action\n" + b"x" * 301 + b",a\n")
    assert "301 characters" in str(error)


def test_long_problem_lists_are_cut_short() -> None:
    data = b"Objective,Action\n" + b"".join(b"T%d,a,b,c\n" % i for i in range(30))
    error = problems_of(data)
    assert len(error.problems) == 30
    assert "...and 10 more." in str(error)


# --- columns -----------------------------------------------------------------------------------


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
        ("Outcome", "action"),
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
        ("RAG", None),
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


# --- csv -------------------------------------------------------------------------------------


def test_semicolon_fixture_with_bom_crlf_and_quoted_newline() -> None:
    plan = read_plan((DATA / "plan-semicolon.csv").read_bytes(), "plan-semicolon.csv")
    assert plan.format == "csv"
    assert plan.title == "Maldon CSP plan 2026/27"
    assert [r.title for r in plan.rows] == [
        "Strategic Assessment",
        "Domestic Homicide Reviews",
        "Café liaison",
    ]
    assessment, dhr, cafe = plan.rows
    assert assessment.owners == ["<@U0AAA1111>", "U0BBB2222"]
    assert dhr.action == "Decide whether to hold a review; tell the Home Office."
    assert dhr.statutory_basis == "Domestic Violence, Crime and Victims Act 2004 s.9"
    assert cafe.statutory_basis is None
    # The quoted cell spans two lines, so the third row starts on line 7.
    assert [r.source_line for r in plan.rows] == [4, 5, 7]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Objective", "Action", "Timescale"]) + "\n"
    text += delimiter.join(["A", '"one, two; three"', "April 2026"]) + "\n"
    row = read_plan(text.encode(), "plan.csv").rows[0]
    assert (row.title, row.action, row.timescale) == ("A", "one, two; three", "April 2026")


def test_txt_without_tabs_is_read_as_csv() -> None:
    plan = read_plan(b"Objective,Action\nA,do a\n", "plan.txt")
    assert plan.format == "csv"


def test_excel_quoted_cells_in_tab_text_are_unquoted() -> None:
    data = b'Objective\tAction\n"PREVENT"\t"Run the ""Think"" workshops"\n'
    row = read_plan(data, "plan.txt").rows[0]
    assert (row.title, row.action) == ("PREVENT", 'Run the "Think" workshops')


def test_csv_formula_cells_are_guarded_and_read_back() -> None:
    rows = [{"title": "=HYPERLINK(1)", "action": "-2+3", "timescale": "@now", "progress": "'=x"}]
    text = write_plan_csv(rows)
    assert "'=HYPERLINK(1)" in text and "'-2+3" in text and "''=x" in text
    row = read_plan(text.encode(), "plan.csv").rows[0]
    assert (row.title, row.action, row.timescale, row.progress) == (
        "=HYPERLINK(1)",
        "-2+3",
        "@now",
        "'=x",
    )


def test_write_plan_csv_shape() -> None:
    text = write_plan_csv(
        [PlanRow(title="A", action="a", timescale="t", owners=["U1", "U2"], source_line=1)],
        bom=True,
    )
    assert text.startswith("\ufeffObjective,Outcome/Action,Timescale,Progress,Owner(s),")
    assert text.endswith("A,a,t,,U1; U2,\r\n")
    assert list(COLUMN_LABELS) == [
        "title",
        "action",
        "timescale",
        "progress",
        "owners",
        "statutory_basis",
    ]


# --- xlsx -------------------------------------------------------------------------------------


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_header_below_title_rows_and_cell_types() -> None:
    data = _workbook(
        [
            ["Maldon CSP"],
            ["Statutory functions"],
            [],
            ["Objective", "Outcome/Action", "Timescale", "Progress", "Owner(s)"],
            ["Strategic Assessment", "Produce it", dt.date(2026, 12, 31), None, "U0AAA"],
            ["Count", 3, 4.0, 2.5, "<@U0BBB>"],
        ]
    )
    plan = read_plan(data, "plan.xlsx")
    assert plan.format == "xlsx"
    assert plan.title == "Maldon CSP Statutory functions"
    first, second = plan.rows
    assert (first.timescale, first.owners, first.source_line) == ("31 December 2026", ["U0AAA"], 5)
    assert (second.action, second.timescale, second.progress) == ("3", "4", "2.5")
    assert second.owners == ["<@U0BBB>"]


def test_xlsx_problems_are_reported_by_row() -> None:
    data = _workbook([["Objective", "Action"], ["A", "a"], ["A", "b", "c"]])
    assert str(problems_of(data, "plan.xlsx")).startswith("plan.xlsx row 3: this row has 3")


def test_xlsx_is_detected_by_content_whatever_the_name() -> None:
    data = _workbook([["Objective", "Action"], ["A", "a"]])
    assert read_plan(data, "plan.csv").format == "xlsx"
    assert read_plan(data, "upload").format == "xlsx"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"PK\x03\x04not really a zip", "plan.xlsx"),
        (b"Objective,Action\nA,a\n", "plan.xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "plan.xls"),
    ],
)
def test_broken_or_old_workbooks_are_refused_kindly(data: bytes, name: str) -> None:
    text = str(problems_of(data, name))
    assert "Excel" in text
    assert "CSV UTF-8" in text


def test_xlsx_formula_like_text_stays_text() -> None:
    data = write_plan_xlsx([{"title": "=1+2", "action": "a", "timescale": "t"}])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert isinstance(sheet, Worksheet)
    assert sheet["A2"].value == "=1+2"
    assert sheet["A2"].data_type == "s"
    assert read_plan(data, "plan.xlsx").rows[0].title == "=1+2"


# --- json -------------------------------------------------------------------------------------


def test_json_export_fixture_ignores_extra_keys() -> None:
    plan = read_plan((DATA / "plan-export.json").read_bytes(), "plan-export.json")
    assert plan.format == "json"
    assert plan.title == "Maldon Community Safety Partnership"
    assessment, prevent = plan.rows
    assert assessment.owners == ["<@U0AAA1111>"]
    assert assessment.statutory_basis == "Crime and Disorder Act 1998 s.6"
    assert (prevent.progress, prevent.statutory_basis, prevent.source_line) == (
        "Training booked",
        None,
        2,
    )


def test_json_list_detected_by_content() -> None:
    doc = [{"title": "A", "action": "a", "timescale": "t", "owners": "U1, U2"}]
    plan = read_plan(json.dumps(doc).encode(), "upload")
    assert plan.format == "json"
    assert plan.rows[0].owners == ["U1", "U2"]


def test_json_problems_name_the_entry() -> None:
    doc = {"objectives": [{"title": "A"}, {"action": "no title"}, "x", {"title": "a"}]}
    error = problems_of(json.dumps(doc).encode(), "plan.json")
    assert [p.line for p in error.problems] == [2, 3, 4]
    assert str(error).startswith('plan.json entry 2: this entry has no "title"')
    assert "entry 1" in error.problems[2].message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"plan": []}', 'no "objectives" list'),
        (b'"just text"', "is not a plan"),
        (b"[]", "no objectives"),
        (b"[" * 100_000, "is not valid JSON"),
    ],
)
def test_bad_json_is_explained(data: bytes, expected: str) -> None:
    assert expected in str(problems_of(data, "plan.json"))


def test_text_that_only_looks_like_json_is_read_as_a_table() -> None:
    plan = read_plan(b"[Draft] plan\nObjective\tAction\nA\ta\n", "plan.txt")
    assert (plan.title, plan.format) == ("[Draft] plan", "seed")


# --- round trips -------------------------------------------------------------------------------


def _sample_rows() -> list[PlanRow]:
    rows = list(read_plan(seed_bytes(), "seed.txt").rows)
    rows[0] = rows[0].model_copy(
        update={"owners": ["<@U0AAA1111>", "U0BBB2222"], "progress": "Draft to RAG 12 Dec"}
    )
    rows[6] = rows[6].model_copy(
        update={"statutory_basis": "Domestic Violence, Crime and Victims Act 2004 s.9"}
    )
    return rows


def test_csv_round_trip() -> None:
    rows = _sample_rows()
    for title in (SEED_TITLE, None):
        plan = read_plan(write_plan_csv(rows, title=title).encode(), "plan.csv")
        assert plan.title == title
        assert without_lines(plan) == [row.model_dump(exclude={"source_line"}) for row in rows]
    dicts = [row.model_dump() for row in rows]
    assert without_lines(read_plan(write_plan_csv(dicts).encode(), "p.csv")) == without_lines(
        ParsedPlan(title=None, rows=rows, format="csv")
    )


def test_xlsx_round_trip() -> None:
    rows = _sample_rows()
    plan = read_plan(write_plan_xlsx(rows, title=SEED_TITLE), "plan.xlsx")
    assert plan.title == SEED_TITLE
    assert without_lines(plan) == [row.model_dump(exclude={"source_line"}) for row in rows]
    assert [row.source_line for row in plan.rows] == list(range(3, 3 + len(rows)))


_cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(clean_cell)
_owner = st.from_regex(r"(<@U[A-Z0-9]{6}>|U[A-Z0-9]{8})", fullmatch=True)


@st.composite
def _plan_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    titles = draw(
        st.lists(_cell.filter(bool), min_size=1, max_size=6, unique_by=lambda t: t.casefold())
    )
    return [
        {
            "title": title,
            "action": draw(_cell),
            "timescale": draw(_cell),
            "progress": draw(_cell),
            "owners": draw(st.lists(_owner, max_size=3, unique=True)),
            "statutory_basis": draw(_cell.filter(bool)) if draw(st.booleans()) else None,
        }
        for title in titles
    ]


def _expected(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [PlanRow(**row, source_line=1).model_dump(exclude={"source_line"}) for row in rows]


@settings(max_examples=150, deadline=None)
@given(_plan_rows())
def test_csv_round_trip_property(rows: list[dict[str, object]]) -> None:
    plan = read_plan(write_plan_csv(rows).encode(), "plan.csv")
    assert without_lines(plan) == _expected(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plan_rows())
def test_xlsx_round_trip_property(rows: list[dict[str, object]]) -> None:
    plan = read_plan(write_plan_xlsx(rows), "plan.xlsx")
    assert without_lines(plan) == _expected(rows)


_NAMES = st.sampled_from(["plan.csv", "plan.txt", "plan.json", "plan.xlsx", "plan", "p.tsv"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), _NAMES)
def test_arbitrary_bytes_parse_or_raise_plan_file_error(data: bytes, name: str) -> None:
    try:
        result = read_plan(data, name)
    except PlanFileError as error:
        assert error.problems
        assert str(error)
    else:
        assert isinstance(result, ParsedPlan)
        assert result.rows


_TABLE_TEXT = st.lists(
    st.lists(
        st.sampled_from(
            ["Objective", "Action", "Owner(s)", "", " ", "A", "b", '"', '"q"', "x,y", "=1", "é"]
        ),
        max_size=6,
    ).map(lambda cells: st.sampled_from(["\t", ",", ";"]).map(lambda d: d.join(cells))),
    max_size=8,
).flatmap(lambda lines: st.tuples(*lines) if lines else st.just(()))


@settings(max_examples=300, deadline=None)
@given(_TABLE_TEXT, st.sampled_from(["\n", "\r\n"]), _NAMES)
def test_table_like_text_parses_or_raises_plan_file_error(
    lines: tuple[str, ...], newline: str, name: str
) -> None:
    data = newline.join(lines).encode()
    try:
        plan = read_plan(data, name)
    except PlanFileError as error:
        assert error.problems
    else:
        titles = [row.title.casefold() for row in plan.rows]
        assert all(titles) and len(set(titles)) == len(titles)


_GOOD_WORKBOOK = write_plan_xlsx(
    [{"title": "A", "action": "a", "timescale": "April 2026", "owners": ["U0AAA"]}]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(_GOOD_WORKBOOK) - 1), st.integers(0, 255)), max_size=8)
)
def test_damaged_workbooks_parse_or_raise_plan_file_error(edits: list[tuple[int, int]]) -> None:
    data = bytearray(_GOOD_WORKBOOK)
    for position, value in edits:
        data[position] = value
    try:
        plan = read_plan(bytes(data), "plan.xlsx")
    except PlanFileError as error:
        assert error.problems
    else:
        assert plan.rows
