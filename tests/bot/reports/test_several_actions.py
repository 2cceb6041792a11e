"""The scrutiny pack of a plan whose objectives have several actions: a row per action under
each objective, the objective's roll-up of them, and the same bytes for the same data."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from docx import Document
from sqlalchemy.orm import Session

from bot.reports.build import build_report
from bot.reports.files import render
from bot.reports.model import Report
from bot.time.quarters import parse_quarter
from store.models import Partnership
from tests.several_actions import NOW, plant_several_actions

LATER = NOW + dt.timedelta(days=1)  # 3 December 2026, in Q3 2026/27


def _report(session: Session, partnership: Partnership) -> Report:
    plant_several_actions(session, partnership)
    return build_report(session, partnership, parse_quarter("2026Q3"), now=LATER)


def test_each_action_is_read_on_its_own_and_the_objective_rolls_them_up(
    session: Session, partnership: Partnership
) -> None:
    report = _report(session, partnership)
    prevent, hate, assessment = report.objectives
    assert [a.text for a in prevent.actions] == [
        "Train frontline staff",
        "Deliver WRAP workshops to schools",
    ]
    train, wrap = prevent.actions
    assert (train.owners, train.status, train.rag_now) == (("<@U0SMITH>",), "done", "done")
    assert [n.note for n in train.notes] == ["Trained"]
    assert (wrap.owners, wrap.status, wrap.rag_start, wrap.rag_now) == (
        ("<@U0JONES>",),
        "open",
        "not rated",
        "red",
    )
    assert [n.note for n in wrap.notes] == ["Workshops cancelled"]
    assert [d.due_on for d in wrap.next_deadlines] == [dt.date(2027, 3, 31)]
    # The objective: open while Jones's action is, red as its worst open action.
    assert (prevent.status, prevent.rag_start, prevent.rag_now) == ("open", "amber", "red")
    assert hate.rag_now == "red" and hate.status == "open"
    (only,) = assessment.actions  # a one-action objective is read as it always was
    assert only.text == "Produce the assessment" and only.overdue
    counts = {c.bucket: c.now for c in report.summary.counts}
    assert counts == {
        "red": 2,
        "amber": 1,
        "green": 0,
        "not rated": 1,
        "done": 1,
        "waived": 0,
    }


def test_the_excel_pack_has_the_objectives_roll_up_above_its_actions(
    session: Session, partnership: Partnership
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(_report(session, partnership), "xlsx")))
    rows = list(book["Actions"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in rows if r[0]] == [
        ("1", "PREVENT", "1 of 2 actions done; action 2 red"),
        ("1.1", "PREVENT", "Train frontline staff"),
        ("1.2", "PREVENT", "Deliver WRAP workshops to schools"),
        ("2", "Hate crime", "0 of 2 actions done; action 2 red"),
        ("2.1", "Hate crime", "Publish the reporting guide."),
        ("2.2", "Hate crime", "Run two awareness weeks"),
        ("3.1", "Strategic Assessment", "Produce the assessment"),
    ]
    roll_up = rows[0]
    assert roll_up[3:8] == ("<@U0SMITH>, <@U0JONES>", "Open", "Amber", "Red", 2)
    progress = list(book["Progress"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[5]) for r in progress if r[0]] == [
        ("1.1", "Trained"),
        ("1.2", "Workshops cancelled"),
    ]


def test_the_word_pack_says_how_the_actions_stand_under_the_objective(
    session: Session, partnership: Partnership
) -> None:
    doc = Document(io.BytesIO(render(_report(session, partnership), "docx")))
    texts = [p.text for p in doc.paragraphs]
    at = texts.index("1. PREVENT")
    assert texts[at + 1] == (
        "Across its 2 actions: 1 of 2 actions done; action 2 red. "
        "Status: open; RAG now: Red (start of quarter: Amber)."
    )
    assert texts[at + 2 : at + 4] == ["Action 1.1", "Train frontline staff"]
    assert "Action 1.2" in texts and "Action 3.1" in texts
    assert not any(
        t.startswith("Across its") for t in texts[texts.index("3. Strategic Assessment") :]
    )


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_the_same_actions_give_the_same_bytes(
    session: Session, partnership: Partnership, fmt: str
) -> None:
    plant_several_actions(session, partnership)
    first = render(build_report(session, partnership, parse_quarter("2026Q3"), now=LATER), fmt)  # type: ignore[arg-type]
    again = render(build_report(session, partnership, parse_quarter("2026Q3"), now=LATER), fmt)  # type: ignore[arg-type]
    assert first == again
