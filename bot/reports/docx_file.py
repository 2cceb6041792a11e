"""The scrutiny pack as a Word document (python-docx): cover, summary, actions, cycle, counts."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.plan.years import plan_year_label
from bot.reports import wordml
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
    standing,
)

if TYPE_CHECKING:
    from docx.document import Document


def _cell_text(value: Cell) -> str:
    return day(value) if isinstance(value, dt.date) else str(value)


def _table(table: Table, *, heading: int | None = 2) -> Iterator[str]:
    if heading is not None:
        yield wordml.heading(table.title, heading)
    if not table.rows:
        yield wordml.paragraph(table.empty)
        return
    yield wordml.table(table.headers, ([_cell_text(v) for v in values] for values in table.rows))


def _append(doc: Document, parts: Iterator[str]) -> None:
    """Add the parts at the end of the body (before its section properties)."""
    from docx.oxml import parse_xml

    body = doc.element.body
    end = body.sectPr
    for child in list(parse_xml(wordml.fragment(parts))):
        if end is not None:
            end.addprevious(child)
        else:
            body.append(child)


def _cover(report: Report) -> Iterator[str]:
    yield wordml.paragraph(report.partnership, "Title")
    yield wordml.paragraph(TITLE, "Subtitle")
    yield wordml.paragraph(f"Period: {report.period}")
    prepared = f"Prepared: {day(report.as_at)}"
    if not report.complete:
        prepared += " (the quarter is not over: the position as at that day)"
    yield wordml.paragraph(prepared)
    yield wordml.paragraph(
        "For the crime and disorder committee (Police and Justice Act 2006 s.19) and the "
        "responsible authorities. Safeguarding referrals are shown as counts only."
    )
    yield wordml.page_break()


def _summary_head(report: Report) -> Iterator[str]:
    s = report.summary
    actions = sum(c.now for c in s.counts)
    yield wordml.heading("Summary", 1)
    yield wordml.paragraph(
        f"{actions} actions across {len(report.objectives)} objectives; "
        f"{s.overdue} with something overdue; {s.notes} progress updates in the quarter."
    )
    yield from _table(rag_table(report))


def _action(
    report: Report, section: ObjectiveSection, number: int, action: ActionSection
) -> Iterator[str]:
    yield wordml.heading(f"Action {section.number}.{number}", 3)
    if action.text:
        yield wordml.paragraph(action.text)
    facts = [
        f"Status: {action.status}",
        f"RAG now: {rag_label(action.rag_now)} (start of quarter: {rag_label(action.rag_start)})",
        f"Owners: {', '.join(action.owners) or 'none assigned'}",
    ]
    if action.overdue:
        worst = max(o.days for o in action.overdue)
        facts.append(f"Overdue: {len(action.overdue)} item(s), the oldest for {days(worst)}")
    for fact in facts:
        yield wordml.paragraph(fact, "ListBullet")
    one = (ObjectiveSection(section.number, section.title, section.statutory_basis, (action,)),)
    yield from _table(notes_table(one, with_ref=False), heading=4)
    if action.overdue:
        yield from _table(overdue_table(one, with_ref=False), heading=4)
    if action.next_deadlines:
        yield from _table(next_table(report, one, with_ref=False), heading=4)


def _objectives(report: Report) -> Iterator[str]:
    yield wordml.heading("Objectives and actions", 1)
    if not report.objectives:
        yield wordml.paragraph(
            f"The {plan_year_label(report.quarter.year)} plan has no objectives: import it "
            "or roll the plan over, then make the pack again."
        )
    for section in report.objectives:
        yield wordml.heading(f"{section.number}. {section.title}", 2)
        if section.statutory_basis:
            yield wordml.paragraph(f"Statutory basis: {section.statutory_basis}")
        if section.several:
            yield wordml.paragraph(
                f"Across its {len(section.actions)} actions: {standing(section)}. "
                f"Status: {section.status}; RAG now: {rag_label(section.rag_now)} "
                f"(start of quarter: {rag_label(section.rag_start)})."
            )
        for number, action in enumerate(section.actions, start=1):
            yield from _action(report, section, number, action)


def _rest(report: Report) -> Iterator[str]:
    yield from _table(movement_table(report))
    yield wordml.page_break()
    yield from _objectives(report)
    yield wordml.heading("Meetings", 1)
    for table in meetings_tables(report):
        yield from _table(table)
    yield wordml.heading("Statutory cycle", 1)
    yield wordml.paragraph(
        "The strategic assessment (yearly), the partnership plan and the scrutiny dates, "
        f"each judged at {day(report.as_at)}."
    )
    yield from _table(cycle_table(report), heading=None)
    yield wordml.heading("Safeguarding referrals", 1)
    yield wordml.paragraph(
        f"{report.referrals.total} referrals were opened in the period. Counts only: no "
        "names, narratives or references appear in this pack."
    )
    for table in referral_tables(report):
        yield from _table(table)


def render_docx(report: Report) -> bytes:
    """The pack as .docx bytes; dates in its properties come from the report, not the clock."""
    from docx import Document as new_document
    from docx.shared import Cm, Twips

    doc = new_document()
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(11906), Twips(16838)  # A4
    section.left_margin = section.right_margin = Cm(2.54)
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
    _append(doc, _cover(report))
    _append(doc, _summary_head(report))
    doc.add_picture(io.BytesIO(rag_chart_png(report)), width=Cm(16))
    _append(doc, _rest(report))
    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue(), stamp)
