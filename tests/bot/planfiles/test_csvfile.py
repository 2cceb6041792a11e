"""CSV plan files: delimiters, quoting, formula guards and the export shape."""

from __future__ import annotations

import pytest

from bot.planfiles.csvfile import write_plan_csv
from bot.planfiles.read import read_plan
from bot.planfiles.table import COLUMN_LABELS, PlanRow
from tests.paths import DATA


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
