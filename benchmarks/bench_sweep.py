"""A sweep with nothing due over 300 partnerships x 50 objectives and a year of
delivery history. Target: under 100 ms (SQLite; PostgreSQL too when
CSP_TEST_POSTGRES_URL is set). Run: python -m benchmarks.bench_sweep"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

from slack_sdk import WebClient
from sqlalchemy import insert

from benchmarks._common import NOW, make_ctx
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Action, Delivery, Objective, ObjectiveOwner, Partnership, ScheduleItem
from tests.fakes.slack import FakeSlack

PARTNERSHIPS, OBJECTIVES, HISTORY = 300, 50, 10


def populate(ctx: object) -> None:
    from bot.context import AppContext

    assert isinstance(ctx, AppContext)
    with session_scope(ctx.sessions) as s:
        s.execute(
            insert(Partnership),
            [
                {
                    "id": p + 1,
                    "name": f"CSP {p}",
                    "timezone": "Europe/London",
                    "plan_year": 2026,
                    "partnership_channel": f"C{p:05d}",
                    "settings": {},
                    "referral_seq": 0,
                    "created_at": NOW,
                }
                for p in range(PARTNERSHIPS)
            ],
        )
        objs, actions, items, owners, history = [], [], [], [], []
        oid = 0
        for p in range(PARTNERSHIPS):
            for i in range(OBJECTIVES):
                oid += 1
                objs.append(
                    {
                        "id": oid,
                        "partnership_id": p + 1,
                        "plan_year": 2026,
                        "position": i,
                        "title": f"Objective {i}",
                        "action_text": "",
                        "timescale_text": "",
                        "status": "open",
                        "needs_dating": False,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
                actions.append(  # one action each, as the seed's objectives have
                    {
                        "id": oid,
                        "objective_id": oid,
                        "position": 1,
                        "text": "",
                        "timescale_text": "",
                        "status": "open",
                        "needs_dating": False,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
                # dated far from today, so nothing is due now
                items.append(
                    {
                        "objective_id": oid,
                        "action_id": oid,
                        "position": 0,
                        "kind": "deadline",
                        "due_on": dt.date(2027, 2, 1 + i % 27),
                        "month_only": False,
                        "source_text": "x",
                    }
                )
                owners.append(
                    {
                        "objective_id": oid,
                        "action_id": oid,
                        "label": f"U{oid}",
                        "slack_user_id": f"U{oid}",
                    }
                )
                for h in range(HISTORY):
                    at = NOW - dt.timedelta(days=36 * h + 1)
                    history.append(
                        {
                            "partnership_id": p + 1,
                            "key": f"hist:{oid}:{h}",
                            "kind": "deadline",
                            "target": f"U{oid}",
                            "occurrence": at,
                            "objective_id": oid,
                            "status": "sent",
                            "attempts": 1,
                            "next_attempt_at": at,
                            "late": False,
                            "payload": {},
                            "created_at": at,
                            "sent_at": at,
                            "slack_ts": "1.0",
                        }
                    )
        s.execute(insert(Objective), objs)
        s.execute(insert(Action), actions)
        s.execute(insert(ScheduleItem), items)
        s.execute(insert(ObjectiveOwner), owners)
        for i in range(0, len(history), 5000):
            s.execute(insert(Delivery), history[i : i + 5000])


def bench(postgres: bool) -> None:
    with FakeSlack() as fake:
        ctx = make_ctx(fake.base_url, postgres=postgres)
        populate(ctx)
        client = WebClient(token="xoxb-bench", base_url=fake.base_url)
        reset_gate()
        t0 = time.perf_counter()
        first = run_sweep(ctx, client=client, ensure_partnership=False)
        full = time.perf_counter() - t0
        times = []
        for minute in range(1, 11):
            t0 = time.perf_counter()
            r = run_sweep(
                ctx, now=NOW + dt.timedelta(minutes=minute), client=client, ensure_partnership=False
            )
            times.append(time.perf_counter() - t0)
            assert r.outbox.sent == 0
        # A fresh process (cron-driven `csp-bot sweep`): the gate is read from the database.
        fresh = []
        for minute in range(11, 16):
            reset_gate()
            t0 = time.perf_counter()
            r = run_sweep(
                ctx, now=NOW + dt.timedelta(minutes=minute), client=client, ensure_partnership=False
            )
            fresh.append(time.perf_counter() - t0)
            assert r.outbox.sent == 0 and not r.calendar_planned
        name = "PostgreSQL" if postgres else "SQLite"
        median = statistics.median(times) * 1000
        print(
            f"[{name}] {PARTNERSHIPS * OBJECTIVES} objectives, "
            f"{PARTNERSHIPS * OBJECTIVES * HISTORY} history rows"
        )
        print(f"[{name}] full plan (first sweep, sent {first.outbox.sent}): {full * 1000:.0f} ms")
        print(
            f"[{name}] nothing-due sweep: median {median:.1f} ms, max {max(times) * 1000:.1f} ms"
            f" (target 100 ms: {median / 100:.2f}x of target; {full * 1000 / median:.0f}x "
            "faster than a full plan)"
        )
        print(
            f"[{name}] same sweep in a fresh process (gate read from the database): "
            f"median {statistics.median(fresh) * 1000:.1f} ms"
        )
        ctx.engine.dispose()


if __name__ == "__main__":
    bench(False)
    if os.environ.get("CSP_TEST_POSTGRES_URL"):
        bench(True)
