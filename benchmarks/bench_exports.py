"""The workbook and the calendar feed for a 500-objective plan with a year of progress.

Workbook: `plan export --format xlsx` end to end (reading the plan, the read models, the
styled cells, saving), median of several runs, against writing the same number of
plain text cells with openpyxl (a new workbook, ``append``, ``save``) in the same run.
Calendar: ``GET /calendar/<secret>.ics`` on the real HTTP server (in a child process)
under 16 concurrent clients, p50/p99, against ``GET /healthz`` on the same server.

    python benchmarks/bench_exports.py [--objectives 500] [--actions 1] [--entries 12]
        [--seconds 3]

Targets: the workbook at most 3x the plain cells; the feed's p99 well under a second.
With ``--actions 3`` each objective has three actions (its title on three rows of the
plan, each with its own owner and timescale), so 500 objectives are 1,500 Plan rows,
and each action has the ``--entries`` updates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
ROWS = [
    ("Strategic Assessment {n}", "Produce the annual strategic assessment.", "April 2026"),
    ("Partnership Plan {n}", "Publish the partnership plan.", "31 st March annually"),
    ("Scrutiny {n}", "Report to the committee.", "March and October 2026"),
    ("Quarterly management {n}", "Quarterly meetings.", "March, June, September, December 2026"),
    ("Public engagement {n}", "Attend public events.", "Ongoing"),
    ("Reducing Reoffending {n}", "Support offender management.", "Ongoing March 2027"),
]


def plan_text(count: int, per: int = 1) -> bytes:
    lines = ["Benchmark plan", "", "Objective\tOutcome/Action\tTimescale\tProgress\tOwner(s)"]
    for n in range(count):
        title = ROWS[n % len(ROWS)][0].format(n=n)
        for k in range(per):
            _, action, timescale = ROWS[(n + k) % len(ROWS)]
            if per > 1:
                action = f"Part {k + 1}: {action}"
            lines.append(f"{title}\t{action}\t{timescale}\t\tU0OWN{(n * per + k) % 40:02d}")
    return ("\n".join(lines) + "\n").encode()


def build_database(db_url: str, objectives: int, entries: int, per: int = 1) -> None:
    from sqlalchemy import select

    from bot.context import build_context
    from bot.plan.members import ensure_partnership
    from bot.planfiles.importer import import_plan_bytes
    from bot.settings import Settings
    from store.db import session_scope
    from store.models import Action, ProgressEntry

    settings = Settings.model_validate({"DATABASE_URL": db_url, "CSP_ADMINS": "UADMIN"})
    ctx = build_context(settings)
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, settings, now=NOW)
        import_plan_bytes(
            session, partnership, plan_text(objectives, per), "plan.txt", now=NOW, plan_year=2026
        )
        partnership.plan_year = 2026
        ids = session.execute(select(Action.id, Action.objective_id)).all()
        rags = ("green", "amber", "red")
        for aid, oid in ids:
            for month in range(entries):
                at = NOW - dt.timedelta(days=30 * (entries - month))
                session.add(
                    ProgressEntry(
                        objective_id=oid,
                        action_id=aid,
                        slack_user_id=f"U0OWN{oid % 40:02d}",
                        author=f"Officer {oid % 40}",
                        created_at=at,
                        rag=rags[(oid + month) % 3],
                        done=False,
                        note=f"Update {month + 1}: on track, papers circulated to the board.",
                    )
                )
    ctx.engine.dispose()


def time_workbook(db_url: str, runs: int) -> tuple[float, float, int, int]:
    """Median seconds of the workbook and of the plain baseline, sheets' cell count."""
    import openpyxl

    from bot.context import build_context
    from bot.plan.members import ensure_partnership
    from bot.planfiles.exporter import export_plan
    from bot.settings import Settings
    from store.db import session_scope

    settings = Settings.model_validate({"DATABASE_URL": db_url, "CSP_ADMINS": "UADMIN"})
    ctx = build_context(settings, migrate=False)
    names = {f"U0OWN{n:02d}": f"Officer Number {n}" for n in range(40)}
    ours: list[float] = []
    data = b""
    for _ in range(runs):
        start = time.perf_counter()
        with session_scope(ctx.sessions) as session:
            partnership = ensure_partnership(session, settings, now=NOW)
            data = export_plan(session, partnership, "xlsx", today=NOW.date(), names=names)
        ours.append(time.perf_counter() - start)
    book = openpyxl.load_workbook(io.BytesIO(data))
    shape = [(ws.max_row, ws.max_column) for ws in book.worksheets]
    cells = sum(rows * cols for rows, cols in shape)
    rows_total = sum(rows for rows, _ in shape)
    plain: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        workbook = openpyxl.Workbook()
        for index, (rows, cols) in enumerate(shape):
            sheet = workbook.active if index == 0 else workbook.create_sheet()
            assert sheet is not None
            line = [f"cell text {c}" for c in range(cols)]
            for _ in range(rows):
                sheet.append(line)
        workbook.save(io.BytesIO())
        plain.append(time.perf_counter() - start)
    ctx.engine.dispose()
    return statistics.median(ours), statistics.median(plain), cells, rows_total


def serve(db_url: str, ready: Any) -> None:
    """Child process: `csp-bot serve`'s HTTP server with the calendar feed."""
    import logging

    logging.disable(logging.WARNING)
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.context import build_context
    from bot.plan.feed import ensure_secret
    from bot.plan.members import ensure_partnership
    from bot.settings import Settings
    from handlers.calendar import feed_responder
    from handlers.server import start_http_server
    from store.db import session_scope

    settings = Settings.model_validate({"DATABASE_URL": db_url, "CSP_ADMINS": "UADMIN"})
    ctx = build_context(settings, migrate=False)
    with session_scope(ctx.sessions) as session:
        secret = ensure_secret(ensure_partnership(session, settings, now=NOW))
    app = App(
        signing_secret="bench",
        client=WebClient(token="xoxb-bench"),
        token_verification_enabled=False,
    )
    server = start_http_server(app, signing_secret="bench", calendar=feed_responder(ctx))
    ready.put((server.url, secret))
    threading.Event().wait()


def load(url: str, path: str, concurrency: int, seconds: float) -> tuple[list[float], int]:
    """``concurrency`` clients, each on its own keep-alive connection, for ``seconds``."""
    parts = urlsplit(url)
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        size = 0
        while time.perf_counter() < stop:
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, response.status
            mine.append(time.perf_counter() - start)
            size = len(body)
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.append(size)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, max(sizes)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objectives", type=int, default=500)
    parser.add_argument("--actions", type=int, default=1, help="actions per objective")
    parser.add_argument("--entries", type=int, default=12, help="updates per action")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    db_url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    build_database(db_url, args.objectives, args.entries, args.actions)

    ours, plain, cells, rows = time_workbook(db_url, args.runs)
    print(
        f"workbook, {args.objectives} objectives x {args.actions} action(s) x "
        f"{args.entries} updates "
        f"({rows:,} rows, {cells:,} cells over 4 sheets): {ours * 1000:.0f} ms; "
        f"plain openpyxl cells {plain * 1000:.0f} ms; ratio {ours / plain:.2f} (target <= 3)"
    )

    ready: Any = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(target=serve, args=(db_url, ready), daemon=True)
    child.start()
    try:
        url, secret = ready.get(timeout=120)
        feed_path = f"/calendar/{secret}.ics"
        load(url, feed_path, 2, 0.5)  # warm: the first request builds the cached feed
        health, _ = load(url, "/healthz", 16, args.seconds)
        feed, size = load(url, feed_path, 16, args.seconds)
        print(
            f"/healthz, 16 clients: {len(health) / args.seconds:.0f} req/s, "
            f"p50 {pct(health, 0.5):.1f} ms, p99 {pct(health, 0.99):.1f} ms"
        )
        print(
            f"/calendar/<secret>.ics ({size / 1024:.0f} KiB), 16 clients: "
            f"{len(feed) / args.seconds:.0f} req/s, p50 {pct(feed, 0.5):.1f} ms, "
            f"p99 {pct(feed, 0.99):.1f} ms; p50 ratio to /healthz "
            f"{pct(feed, 0.5) / pct(health, 0.5):.2f}, "
            f"p99 ratio {pct(feed, 0.99) / pct(health, 0.99):.2f}"
        )
    finally:
        child.kill()


if __name__ == "__main__":
    main()
