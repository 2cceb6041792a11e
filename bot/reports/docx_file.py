"""The scrutiny pack as a Word document (python-docx): cover, summary, actions, cycle, counts."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from bot.plan.years import plan_year_label
from bot.reports.chart import rag_chart_png
from bot.reports.model import TITLE, ActionSection, ObjectiveSection, Report
from bot.reports.stable import stable_zip
from bot.reports.tables import (
    Cell,
    Table,
    cycle_table,
    day,
    days,
    meetings_tables,
    movement_table,
    next_table,
    notes_table,
    overdue_table,
    rag_label,
    rag_table,
    referral_tables,
)

if TYPE_CHECKING:
    from docx.document import Document


def _cell_text(value: Cell) -> str:
    return day(value) if isinstance(value, dt.date) else str(value)


def _table(doc: Document, table: Table, *, heading: int | None = 2) -> None:
    if heading is not None:
        doc.add_heading(table.title, level=heading)
    if not table.rows:
        doc.add_paragraph(table.empty)
        return
    grid = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    grid.style = "Table Grid"
    rows = grid.rows
    for cell, text in zip(rows[0].cells, table.headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row, values in zip(rows[1:], table.rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = _cell_text(value)


def _page_break(doc: Document) -> None:
    from docx.enum.text import WD_BREAK

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _cover(doc: Document, report: Report) -> None:
    doc.add_heading(report.partnership, level=0)
    doc.add_paragraph(TITLE, style="Subtitle")
    doc.add_paragraph(f"Period: {report.period}")
    if report.complete:
        doc.add_paragraph(f"Prepared: {day(report.as_at)}")
    else:
        doc.add_paragraph(
            f"Prepared: {day(report.as_at)} (the quarter is not over: the position as at that day)"
        )
    doc.add_paragraph(
        "For the crime and disorder committee (Police and Justice Act 2006 s.19) and the "
        "responsible authorities. Safeguarding referrals are shown as counts only."
    )
    _page_break(doc)


def _summary(doc: Document, report: Report) -> None:
    doc.add_heading("Summary", level=1)
    s = report.summary
    actions = sum(c.now for c in s.counts)
    doc.add_paragraph(
        f"{actions} actions across {len(report.objectives)} objectives; "
        f"{s.overdue} with something overdue; {s.notes} progress updates in the quarter."
    )
    _table(doc, rag_table(report))
    from docx.shared import Cm

    doc.add_picture(io.BytesIO(rag_chart_png(report)), width=Cm(16))
    _table(doc, movement_table(report))
    _page_break(doc)


def _action(
    doc: Document, report: Report, section: ObjectiveSection, number: int, action: ActionSection
) -> None:
    label = f"Action {section.number}.{number}"
    doc.add_heading(label, level=3)
    if action.text:
        doc.add_paragraph(action.text)
    facts = [
        f"Status: {action.status}",
        f"RAG now: {rag_label(action.rag_now)} (start of quarter: {rag_label(action.rag_start)})",
        f"Owners: {', '.join(action.owners) or 'none assigned'}",
    ]
    if action.overdue:
        worst = max(o.days for o in action.overdue)
        facts.append(f"Overdue: {len(action.overdue)} item(s), the oldest for {days(worst)}")
    for fact in facts:
        doc.add_paragraph(fact, style="List Bullet")
    single = ObjectiveSection(section.number, section.title, section.statutory_basis, (action,))
    one = (single,)
    _table(doc, notes_table(one, with_ref=False), heading=4)
    if action.overdue:
        _table(doc, overdue_table(one, with_ref=False), heading=4)
    if action.next_deadlines:
        _table(doc, next_table(report, one, with_ref=False), heading=4)


def _objectives(doc: Document, report: Report) -> None:
    doc.add_heading("Objectives and actions", level=1)
    if not report.objectives:
        doc.add_paragraph(
            f"The {plan_year_label(report.quarter.year)} plan has no objectives: import it "
            "or roll the plan over, then make the pack again."
        )
    for section in report.objectives:
        doc.add_heading(f"{section.number}. {section.title}", level=2)
        if section.statutory_basis:
            doc.add_paragraph(f"Statutory basis: {section.statutory_basis}")
        for number, action in enumerate(section.actions, start=1):
            _action(doc, report, section, number, action)


def render_docx(report: Report) -> bytes:
    """The pack as .docx bytes; dates in its properties come from the report, not the clock."""
    from docx import Document as new_document

    doc = new_document()
    stamp = dt.datetime.combine(report.as_at, dt.time(), tzinfo=dt.UTC)
    props = doc.core_properties
    props.title = f"{TITLE}, {report.period}"
    props.subject = report.partnership
    props.author = report.partnership
    props.last_modified_by = report.partnership
    props.created = stamp
    props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.keywords = f"scrutiny, {report.quarter.code}"
    props.comments = ""
    _cover(doc, report)
    _summary(doc, report)
    _objectives(doc, report)
    doc.add_heading("Meetings", level=1)
    for table in meetings_tables(report):
        _table(doc, table)
    doc.add_heading("Statutory cycle", level=1)
    doc.add_paragraph(
        "The strategic assessment (yearly), the partnership plan and the scrutiny dates, "
        f"each judged at {day(report.as_at)}."
    )
    _table(doc, cycle_table(report), heading=None)
    doc.add_heading("Safeguarding referrals", level=1)
    doc.add_paragraph(
        f"{report.referrals.total} referrals were opened in the period. Counts only: no "
        "names, narratives or references appear in this pack."
    )
    for table in referral_tables(report):
        _table(doc, table)
    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue(), stamp)
