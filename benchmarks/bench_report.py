"""The quarterly scrutiny pack (Word and Excel) for a 500-objective plan with a year of
progress (12 entries an action), against openpyxl writing the same number of plain cells
in the same run. Target: at most 3x.

    python -m benchmarks.bench_report [--objectives 500] [--actions 1]

``--actions 3`` gives each objective three actions (1,500 actions for 500 objectives),
each with its own owner, three deadlines and a year of progress."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import time
from collections.abc import Callable

from sqlalchemy import insert

from benchmarks._common import NOW, make_ctx
from bot.context import AppContext
from bot.plan.members import ensure_partnership
from bot.reports.build import build_report
from bot.reports.files import render
from bot.reports.model import Report
from bot.reports.tables import (
    actions_table,
    cycle_table,
    meetings_tables,
    movement_table,
    next_table,
    notes_table,
    overdue_table,
    rag_table,
    referral_tables,
)
from bot.time.quarters import Quarter
from store.db import session_scope
from store.models import (
    Action,
    Meeting,
    Objective,
    ObjectiveOwner,
    ProgressEntry,
    ScheduleItem,
)

ENTRIES = 12  # a year of monthly progress per action
RUNS = 5
QUARTER = Quarter(2026, 3)
TITLES = ("Strategic Assessment", "Partnership Plan", "Overview and Scrutiny Committee")


def _plant(n: int, per: int) -> AppContext:
    """``n`` objectives of ``per`` actions each; action ``a`` of objective ``i`` has id
    ``i * per + a + 1``."""
    ctx = make_ctx("http://127.0.0.1:9/api/")
    rags = ("red", "amber", "green")
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        pid, year = p.id, 2026
        p.plan_year = year
        text = "Deliver workstream {i} with the responsible authorities, reporting each quarter."
        s.execute(
            insert(Objective),
            [
                {
                    "id": i + 1,
                    "partnership_id": pid,
                    "plan_year": year,
                    "position": i,
                    "title": TITLES[i] if i < len(TITLES) else f"Objective {i}: safer streets",
                    "action_text": text.format(i=i),
                    "timescale_text": "",
                    "statutory_basis": "Crime and Disorder Act 1998 s.6" if i % 5 == 0 else None,
                    "status": "open",
                    "rag": rags[i % 3],
                    "needs_dating": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(n)
            ],
        )
        actions = [(i, a, i * per + a + 1) for i in range(n) for a in range(per)]
        s.execute(
            insert(Action),
            [
                {
                    "id": aid,
                    "objective_id": i + 1,
                    "position": a + 1,
                    "text": text.format(i=f"{i}.{a + 1}"),
                    "timescale_text": "",
                    "status": "open",
                    "rag": rags[(i + a) % 3],
                    "needs_dating": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i, a, aid in actions
            ],
        )
        items = []
        for i, a, aid in actions:
            for k in range(3):  # deadlines spread over the year: some met, some overdue
                due = dt.date(2026, 4, 30) + dt.timedelta(days=(i * 7 + a * 30 + k * 120) % 340)
                met = dt.datetime.combine(due, dt.time(12), tzinfo=dt.UTC)
                items.append(
                    {
                        "objective_id": i + 1,
                        "action_id": aid,
                        "position": a * 3 + k,
                        "kind": "deadline",
                        "due_on": due,
                        "month_only": k == 2,
                        "source_text": f"{due:%B %Y}",
                        "done_at": met if (i + k) % 3 == 0 and due < NOW.date() else None,
                    }
                )
        s.execute(insert(ScheduleItem), items)
        s.execute(
            insert(ObjectiveOwner),
            [
                {
                    "objective_id": i + 1,
                    "action_id": aid,
                    "label": f"Officer {i}.{a}",
                    "slack_user_id": None,
                }
                for i, a, aid in actions
            ],
        )
        start = dt.datetime(2025, 12, 1, 10, tzinfo=dt.UTC)
        s.execute(
            insert(ProgressEntry),
            [
                {
                    "objective_id": i + 1,
                    "action_id": aid,
                    "author": "Sam Officer",
                    "slack_user_id": "U1",
                    "created_at": start + dt.timedelta(days=30 * m + i % 28, hours=(i + a) % 7),
                    "rag": ("red", "amber", "green", None)[(i + a + m) % 4],
                    "done": False,
                    "note": f"Month {m}: partners met, actions agreed and owners confirmed.",
                }
                for i, a, aid in actions
                for m in range(ENTRIES)
            ],
        )
        s.execute(
            insert(Meeting),
            [
                {
                    "partnership_id": pid,
                    "body": f"Board {b}",
                    "month": dt.date(2026, month, 1),
                    "meeting_date": dt.date(2026, month, 10 + b),
                    "place": "Council Chamber",
                }
                for b in range(4)
                for month in (9, 10, 11, 12)
            ],
        )
    return ctx


def _cells(report: Report) -> int:
    tables = [
        rag_table(report),
        movement_table(report),
        actions_table(report),
        notes_table(report.objectives, with_ref=True),
        overdue_table(report.objectives, with_ref=True),
        next_table(report, report.objectives, with_ref=True),
        cycle_table(report),
        *meetings_tables(report),
        *referral_tables(report),
    ]
    return sum((1 + len(t.rows)) * len(t.headers) for t in tables)


def _plain_cells(count: int, width: int = 8) -> bytes:
    """The baseline: ``count`` short text and number cells written with openpyxl."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for n in range(count):
        row, column = divmod(n, width)
        value: object = f"text {n}" if column % 2 == 0 else n
        sheet.cell(row=row + 1, column=column + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _median(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objectives", type=int, default=500)
    parser.add_argument("--actions", type=int, default=1, help="actions per objective")
    args = parser.parse_args()
    n, per = args.objectives, args.actions
    ctx = _plant(n, per)
    sessions, settings = ctx.sessions, ctx.settings

    def model() -> Report:
        with session_scope(sessions) as s:
            p = ensure_partnership(s, settings, now=NOW)
            return build_report(s, p, QUARTER, now=NOW)

    report = model()
    cells = _cells(report)
    render(report, "docx"), render(report, "xlsx"), _plain_cells(cells)  # warm imports
    baseline = _median(lambda: _plain_cells(cells))
    built = _median(model)
    docx = _median(lambda: render(model(), "docx"))
    xlsx = _median(lambda: render(model(), "xlsx"))
    notes = sum(len(a.notes) for o in report.objectives for a in o.actions)
    print(
        f"{n} objectives x {per} action(s) = {n * per:,} actions, {n * per * ENTRIES:,} "
        f"progress entries ({notes:,} in {QUARTER.code}); the pack's tables hold {cells:,} cells"
    )
    print(f"baseline: {cells:,} plain cells, openpyxl: {baseline * 1000:.0f} ms (median of {RUNS})")
    print(f"model alone:            {built * 1000:.0f} ms")
    print(f"Word pack (model+docx): {docx * 1000:.0f} ms = {docx / baseline:.2f}x (target <= 3x)")
    print(f"Excel pack (model+xlsx): {xlsx * 1000:.0f} ms = {xlsx / baseline:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
