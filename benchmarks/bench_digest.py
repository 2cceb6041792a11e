"""The digest for a 500-objective plan, built (read model + blocks) in under 50 ms.
Run: python -m benchmarks.bench_digest"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from sqlalchemy import insert, text

from benchmarks._common import NOW, make_ctx
from bot.notices.digest import build_digest
from bot.notices.digest_blocks import build_digest_blocks
from bot.plan.members import ensure_partnership
from store.db import session_scope
from store.models import Action, Objective, ObjectiveOwner, ProgressEntry, ScheduleItem

N = 500


def main() -> None:
    ctx = make_ctx("http://127.0.0.1:9/api/")
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        pid, year = p.id, p.plan_year
        s.execute(
            insert(Objective),
            [
                {
                    "id": i + 1,
                    "partnership_id": pid,
                    "plan_year": year,
                    "position": i,
                    "title": f"Objective {i}",
                    "action_text": "",
                    "timescale_text": "",
                    "status": "open",
                    "rag": ("red", "amber", "green", None)[i % 4],
                    "needs_dating": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(N)
            ],
        )
        s.execute(  # one action each, with the objective's id
            insert(Action),
            [
                {
                    "id": i + 1,
                    "objective_id": i + 1,
                    "position": 1,
                    "text": "",
                    "timescale_text": "",
                    "status": "open",
                    "rag": ("red", "amber", "green", None)[i % 4],
                    "needs_dating": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(N)
            ],
        )
        s.execute(
            insert(ScheduleItem),
            [
                {
                    "objective_id": i + 1,
                    "action_id": i + 1,
                    "position": 0,
                    "kind": "deadline",
                    "due_on": dt.date(2026, 10, 1) + dt.timedelta(days=i % 90),
                    "month_only": False,
                    "source_text": "x",
                }
                for i in range(N)
            ],
        )
        s.execute(
            insert(ObjectiveOwner),
            [
                {
                    "objective_id": i + 1,
                    "action_id": i + 1,
                    "label": f"U{i}",
                    "slack_user_id": f"U{i}",
                }
                for i in range(N)
            ],
        )
        s.execute(
            insert(ProgressEntry),
            [
                {
                    "objective_id": i % N + 1,
                    "action_id": i % N + 1,
                    "author": "Jo",
                    "slack_user_id": "U1",
                    "created_at": NOW - dt.timedelta(hours=i),
                    "done": False,
                    "note": "Went well",
                }
                for i in range(300)
            ],
        )
    baseline = []
    times = []
    for _ in range(15):
        with session_scope(ctx.sessions) as s:
            p = ensure_partnership(s, ctx.settings, now=NOW)
            t0 = time.perf_counter()
            s.execute(text("select 1"))
            baseline.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            digest = build_digest(s, p, NOW)
            blocks = build_digest_blocks(digest)
            [b.to_dict() for b in blocks]
            times.append(time.perf_counter() - t0)
    med = statistics.median(times[3:]) * 1000
    print(
        f"{N} objectives: {len(digest.overdue)} overdue, {len(digest.due_soon)} due soon, "
        f"{len(blocks)} blocks"
    )
    print(
        f"digest built in median {med:.1f} ms (target 50 ms: {med / 50:.2f}x of target; "
        f"trivial query baseline {statistics.median(baseline) * 1000:.2f} ms)"
    )


if __name__ == "__main__":
    main()
