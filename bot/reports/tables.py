"""The pack's tables as rows of plain values, the same for the Word and the Excel form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.plan.standing import how_actions_stand
from bot.reports.model import BUCKET_LABELS, CountRow, MeetingLine, ObjectiveSection, Report

Cell = str | int | dt.date


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = "None."  # what the Word form says instead of an empty table


def day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def rag_label(bucket: str) -> str:
    return BUCKET_LABELS.get(bucket, bucket.capitalize())


def status_label(status: str) -> str:
    return {"": "Note", "done": "Done"}.get(status, status.capitalize())


def end_label(report: Report) -> str:
    return "End of quarter" if report.complete else f"As at {day(report.as_at)}"


def rag_table(report: Report) -> Table:
    return Table(
        "RAG status of actions",
        ("Status", "Start of quarter", end_label(report), "Change"),
        tuple((c.label, c.at_start, c.now, _signed(c.change)) for c in report.summary.counts),
    )


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def movement_table(report: Report) -> Table:
    s = report.summary
    return Table(
        "Movement in the quarter",
        ("Measure", "Actions"),
        (
            ("Improved (RAG towards green, or done)", s.improved),
            ("Worse (RAG towards red)", s.worsened),
            ("No change", s.unchanged),
            ("With something overdue", s.overdue),
            ("Progress updates logged in the quarter", s.notes),
        ),
    )


def standing(section: ObjectiveSection) -> str:
    """How an objective's several actions stand: "1 of 2 actions done; action 2 red"."""
    return how_actions_stand([(a.status, a.rag_now) for a in section.actions])


def _roll_up_row(section: ObjectiveSection) -> tuple[Cell, ...]:
    """An objective's own row above its several actions: their roll-up."""
    actions = section.actions
    longest = max((o.days for a in actions for o in a.overdue), default=0)
    coming = sorted(
        (d for a in actions for d in a.next_deadlines), key=lambda d: (d.due_on, d.label)
    )
    return (
        str(section.number),
        section.title,
        standing(section),
        ", ".join(dict.fromkeys(o for a in actions for o in a.owners)),
        section.status.capitalize(),
        rag_label(section.rag_start),
        rag_label(section.rag_now),
        sum(len(a.notes) for a in actions),
        sum(len(a.overdue) for a in actions),
        days(longest) if longest else "",
        coming[0].label if coming else "",
    )


def actions_table(report: Report) -> Table:
    """One row per action: the register the committee reads first. An objective with
    several actions has a row of its own (their roll-up) above theirs."""
    rows: list[tuple[Cell, ...]] = []
    for section in report.objectives:
        if section.several:
            rows.append(_roll_up_row(section))
        for number, action in enumerate(section.actions, start=1):
            longest = max((o.days for o in action.overdue), default=0)
            nxt = action.next_deadlines[0] if action.next_deadlines else None
            rows.append(
                (
                    _ref(section, number),
                    section.title,
                    action.text,
                    ", ".join(action.owners),
                    action.status.capitalize(),
                    rag_label(action.rag_start),
                    rag_label(action.rag_now),
                    len(action.notes),
                    len(action.overdue),
                    days(longest) if longest else "",
                    nxt.label if nxt is not None else "",
                )
            )
    return Table(
        "Objectives and actions",
        (
            "Ref",
            "Objective",
            "Action",
            "Owners",
            "Status",
            "RAG at start",
            "RAG now",
            "Updates",
            "Overdue items",
            "Longest overdue",
            "Next deadline",
        ),
        tuple(rows),
    )


def _ref(section: ObjectiveSection, action_number: int) -> str:
    return f"{section.number}.{action_number}"


def notes_table(sections: Sequence[ObjectiveSection], *, with_ref: bool) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for section in sections:
        for number, action in enumerate(section.actions, start=1):
            for note in action.notes:
                head: tuple[Cell, ...] = (_ref(section, number), section.title) if with_ref else ()
                rows.append((*head, note.on, note.author, status_label(note.status), note.note))
    headers = ("Date", "By", "Update", "Note")
    return Table(
        "Progress in the quarter",
        (("Ref", "Objective", *headers) if with_ref else headers),
        tuple(rows),
        empty="No progress was logged in the quarter.",
    )


def overdue_table(sections: Sequence[ObjectiveSection], *, with_ref: bool) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for section in sections:
        for number, action in enumerate(section.actions, start=1):
            for late in action.overdue:
                head: tuple[Cell, ...] = (_ref(section, number), section.title) if with_ref else ()
                rows.append((*head, late.label, late.due_on, days(late.days)))
    headers = ("Item", "Was due", "Overdue for")
    return Table(
        "Overdue",
        (("Ref", "Objective", *headers) if with_ref else headers),
        tuple(rows),
        empty="Nothing overdue.",
    )


def next_table(report: Report, sections: Sequence[ObjectiveSection], *, with_ref: bool) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for section in sections:
        for number, action in enumerate(section.actions, start=1):
            for due in action.next_deadlines:
                head: tuple[Cell, ...] = (_ref(section, number), section.title) if with_ref else ()
                when: Cell = f"{due.due_on:%B %Y}" if due.month_only else due.due_on
                rows.append((*head, due.label, when))
    headers = ("Deadline", "Due")
    nxt = report.quarter.next()
    return Table(
        f"Deadlines next quarter ({nxt.label})",
        (("Ref", "Objective", *headers) if with_ref else headers),
        tuple(rows),
        empty=f"No deadlines in {nxt.label}.",
    )


def meetings_tables(report: Report) -> tuple[Table, Table]:
    def rows(lines: Sequence[MeetingLine]) -> tuple[tuple[Cell, ...], ...]:
        return tuple((m.body, m.when, m.place or "") for m in lines)

    headers = ("Body", "When", "Place")
    return (
        Table("Meetings held", headers, rows(report.meetings_held), "No meetings held."),
        Table(
            f"Meetings coming (to the end of {report.quarter.next().label})",
            headers,
            rows(report.meetings_coming),
            "No meetings programmed.",
        ),
    )


def cycle_table(report: Report) -> Table:
    return Table(
        "Statutory cycle",
        ("Duty", "Objective", "Date", "What", "On time?", "Detail"),
        tuple(
            (c.duty, c.objective, c.due_on or "", c.label, c.state, c.detail) for c in report.cycle
        ),
    )


def referral_tables(report: Report) -> tuple[Table, Table, Table]:
    r = report.referrals
    return (
        Table("Referrals by category", ("Category", "Referrals"), _counts(r.by_category)),
        Table("Referrals by urgency", ("Urgency", "Referrals"), _counts(r.by_urgency)),
        Table("Acknowledgement", ("Acknowledged", "Referrals"), _counts(r.by_clock)),
    )


def _counts(rows: Sequence[CountRow]) -> tuple[tuple[Cell, ...], ...]:
    return tuple((c.label, c.count) for c in rows)
