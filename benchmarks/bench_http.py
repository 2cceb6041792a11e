"""Signed `/csp due` and `/csp progress` through the HTTP server, against a bare Bolt app.

Both apps are served by the same HTTP transport (handlers.server) in a child
process, so the load generator here does not share their interpreter. The plan
has 500 objectives. Prints throughput, p50/p99 latency, and the throughput ratio
(csp-bot / bare Bolt) at concurrency 1 and 16. Only finished requests count: a
csp-bot reply must carry its answer.

Then a burst: 240 `/csp progress` at concurrency 16 while the fake Slack enforces one
message a second per channel (429 with Retry-After beyond it): each update must be
stored once and reach the channel once, within 30 s of the burst's end, in at most
(burst seconds + 5) posts, with ack p99 under 300 ms and at least 0.5x bare Bolt.

    python benchmarks/bench_http.py [--seconds 2.5] [--objectives 500] [--burst 240]

Targets: ratio >= 0.7 and p99 < 300 ms at concurrency 16; the burst's as above.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
SEED_ROWS = [
    ("Strategic Assessment {n}", "Produce the annual strategic assessment.", "April 2027"),
    ("Partnership Plan {n}", "Publish the partnership plan.", "31 st March annually"),
    ("Scrutiny {n}", "Report to the committee.", "March and October 2027"),
    ("Quarterly management {n}", "Quarterly meetings.", "March, June, September, December 2027"),
    ("Public engagement {n}", "Attend public events.", "Ongoing"),
    ("Reducing Reoffending {n}", "Support offender management.", "Ongoing March 2027"),
]


def plan_text(count: int) -> bytes:
    lines = ["Benchmark plan", "", "Objective\tOutcome/Action\tTimescale\tProgress"]
    for n in range(count):
        title, action, timescale = SEED_ROWS[n % len(SEED_ROWS)]
        lines.append(f"{title.format(n=n)}\t{action}\t{timescale}\t")
    return ("\n".join(lines) + "\n").encode()


def serve(kind: str, db_url: str, api_url: str, objectives: int, ready: Any) -> None:
    """Child process: build the app and serve it until killed."""
    import logging

    logging.disable(logging.WARNING)
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from handlers.server import start_http_server

    if kind == "bare":
        bare = App(
            signing_secret=SECRET,
            client=WebClient(base_url=api_url, token="xoxb-bench"),
            token_verification_enabled=False,
        )

        @bare.command("/csp")
        def only_ack(ack: Ack) -> None:
            ack()

        server = start_http_server(bare, signing_secret=SECRET)
    else:
        from bot.context import build_context
        from bot.plan.members import ensure_partnership
        from bot.planfiles.importer import import_plan_bytes
        from bot.settings import Settings
        from handlers.app import build_app, make_client
        from handlers.units import warm_up
        from store.db import session_scope

        settings = Settings.model_validate(
            {
                "DATABASE_URL": db_url,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": api_url,
                "CSP_PARTNERSHIP_CHANNEL": "C0PARTNER",
                "CSP_ADMINS": "UADMIN",
            }
        )
        ctx = build_context(settings)
        now = dt.datetime.now(dt.UTC)
        with session_scope(ctx.sessions) as session:
            partnership = ensure_partnership(session, settings, now=now)
            import_plan_bytes(session, partnership, plan_text(objectives), "plan.txt", now=now)
        app = build_app(ctx, client=make_client(settings))
        warm_up(app)  # as `csp-bot serve` and `csp-bot run` do before serving
        server = start_http_server(app)
    ready.put(server.url)
    threading.Event().wait()


def signed(text: str, n: int) -> tuple[bytes, dict[str, str]]:
    from handlers.shell.fake_slack import TEAM_ID  # the fake's workspace

    body = urlencode(
        {
            "command": "/csp",
            "text": text,
            "user_id": f"U0BENCH{n % 50}",
            "user_name": "bench",
            "channel_id": "C0PARTNER",
            "team_id": TEAM_ID,  # the app answers no other workspace
            "trigger_id": f"t{n}",
            "response_url": "",
        }
    )
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }
    return body.encode(), headers


def load(
    url: str,
    text: str,
    concurrency: int,
    seconds: float,
    fake: Any,
    *,
    expect_post: bool,
    expect_in_reply: str,
) -> tuple[float, list[float], int]:
    """Finished requests per second, latencies (s) and errors over ``seconds``.

    A request is finished when its reply is complete: the HTTP answer (which must
    carry ``expect_in_reply``) and, when ``expect_post``, the chat.postMessage it
    causes, matched by a token in the text. The clock stops at the last finished
    reply, so work left running after a quick ack is counted, not hidden.
    """
    split = urlsplit(url)
    lock = threading.Lock()
    stop_at = [0.0]
    counter = iter(range(10**9))
    sent: dict[int, tuple[float, float]] = {}  # n -> (started, answered)
    errors = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
        mine: dict[int, tuple[float, float]] = {}
        failed = 0
        while time.monotonic() < stop_at[0]:
            n = next(counter)
            body, headers = signed(f"{text} bench-{n}-end" if expect_post else text, n)
            started = time.monotonic()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                reply = response.read().decode("utf-8", "replace")
                ok = response.status == 200 and expect_in_reply in reply
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(split.hostname or "", split.port, timeout=10)
            if ok:
                mine[n] = (started, time.monotonic())
            else:
                failed += 1
        conn.close()
        with lock:
            sent.update(mine)
            errors[0] += failed

    def posted() -> dict[int, float]:
        found: dict[int, float] = {}
        for call in fake.calls_to("chat.postMessage"):
            match = re.search(r"bench-(\d+)-end", json.dumps(call.args))
            if match:
                found[int(match.group(1))] = call.at
        return found

    # Warm up (connections, caches), then measure.
    for phase_seconds, keep in ((0.3, False), (seconds, True)):
        sent.clear()
        errors[0] = 0
        stop_at[0] = time.monotonic() + phase_seconds
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finished = {n: answered for n, (_, answered) in sent.items()}
        if expect_post:
            deadline = time.monotonic() + 60
            while True:
                arrived = posted()
                if all(n in arrived for n in sent) or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            errors[0] += sum(1 for n in sent if n not in arrived)
            finished = {n: max(at, arrived[n]) for n, at in finished.items() if n in arrived}
            fake.reset()
        if keep:
            end = max(finished.values(), default=began)
            latencies = sorted(finished[n] - sent[n][0] for n in finished)
            return len(finished) / max(end - began, 1e-9), latencies, errors[0]
    raise AssertionError("unreachable")


def burst(url: str, fake: Any, db_url: str, count: int, concurrency: int) -> dict[str, float]:
    """``count`` `/csp progress` updates at ``concurrency`` while the fake Slack enforces
    one message a second per channel (429 with Retry-After beyond it).

    Returns the acks' throughput and p99, how long the burst took, how long after its end
    the last note reached the channel, the posts it took, the 429s Slack answered, and how
    many updates were stored and how many notes were posted (each must be ``count``).
    """
    from sqlalchemy import create_engine, func, select

    from store.models import ProgressEntry

    split = urlsplit(url)
    lock = threading.Lock()
    numbers = iter(range(count))
    acks: list[float] = []
    errors = [0]
    fake.reset()
    fake.per_channel_interval = 1.0

    def worker() -> None:
        conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                break
            body, headers = signed(f"progress Partnership Plan 1 green burst-{n}-end", n)
            started = time.monotonic()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                ok = response.status == 200 and "Partnership Plan 1" in response.read().decode()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(split.hostname or "", split.port, timeout=10)
            with lock:
                if ok:
                    acks.append(time.monotonic() - started)
                else:
                    errors[0] += 1
        conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ended = time.monotonic()

    def notes() -> tuple[int, float]:
        seen: dict[int, float] = {}
        for call in fake.calls_to("chat.postMessage", ok=True):
            for match in re.finditer(r"burst-(\d+)-end", json.dumps(call.args.get("blocks"))):
                seen.setdefault(int(match.group(1)), call.at)
        return len(seen), max(seen.values(), default=ended)

    deadline = ended + 60
    while notes()[0] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    posted, last = notes()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.scalar(
            select(func.count())
            .select_from(ProgressEntry)
            .where(ProgressEntry.note.like("burst-%-end"))
        )
    engine.dispose()
    fake.per_channel_interval = None
    return {
        "rps": len(acks) / max(ended - began, 1e-9),
        "p99": pct(sorted(acks), 0.99),
        "seconds": ended - began,
        "visible_after": max(0.0, last - ended),
        "posts": float(len(fake.calls_to("chat.postMessage", ok=True))),
        "limited": float(len(fake.calls_to("chat.postMessage", ok=False))),
        "stored": float(stored or 0),
        "notes": float(posted),
        "errors": float(errors[0]),
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def start(kind: str, db_url: str, api_url: str, objectives: int) -> tuple[Any, str]:
    context = mp.get_context("fork")
    ready = context.Queue()
    process = context.Process(
        target=serve, args=(kind, db_url, api_url, objectives, ready), daemon=True
    )
    process.start()
    url = ready.get(timeout=120)
    return process, url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.5)
    parser.add_argument("--objectives", type=int, default=500)
    parser.add_argument("--burst", type=int, default=240)
    args = parser.parse_args()

    from tests.fakes.slack import FakeSlack

    # (name, command text, text the csp reply must carry, whether it posts to the channel)
    cases = [
        ("due", "due", "overdue", False),
        # Acked with its reply; its channel post is the announcer's, paced per channel
        # (the burst below measures when the notes reach the channel).
        ("progress", "progress Partnership Plan 1 green On track", "Partnership Plan 1", False),
    ]
    results: dict[tuple[str, str, int], tuple[float, float, float, int]] = {}
    rate_limited: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        db_url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        for kind in ("bare", "csp"):
            process, url = start(kind, db_url, fake.base_url, args.objectives)
            try:
                if kind == "csp":
                    rate_limited = burst(url, fake, db_url, args.burst, 16)
                for name, text, expect, posts in cases:
                    for concurrency in (1, 16):
                        is_bare = kind == "bare"
                        rps, lat, errs = load(
                            url,
                            text,
                            concurrency,
                            args.seconds,
                            fake,
                            expect_post=posts and not is_bare,
                            expect_in_reply="" if is_bare else expect,
                        )
                        results[(kind, name, concurrency)] = (
                            rps,
                            pct(lat, 0.5),
                            pct(lat, 0.99),
                            errs,
                        )
            finally:
                process.kill()
                process.join()

    print(
        f"plan: {args.objectives} objectives; {args.seconds:.1f} s per case; {os.cpu_count()} CPUs"
    )
    print(
        f"{'case':<10}{'conc':>5}{'bare rps':>10}{'csp rps':>10}{'ratio':>7}"
        f"{'csp p50 ms':>12}{'csp p99 ms':>12}{'bare p99':>10}{'errors':>8}"
    )
    worst_ratio, worst_p99 = 10.0, 0.0
    for name, *_ in cases:
        for concurrency in (1, 16):
            bare = results[("bare", name, concurrency)]
            ours = results[("csp", name, concurrency)]
            ratio = ours[0] / bare[0] if bare[0] else float("nan")
            print(
                f"{name:<10}{concurrency:>5}{bare[0]:>10.0f}{ours[0]:>10.0f}{ratio:>7.2f}"
                f"{ours[1]:>12.1f}{ours[2]:>12.1f}{bare[2]:>10.1f}{ours[3] + bare[3]:>8}"
            )
            if concurrency == 16:
                worst_ratio = min(worst_ratio, ratio)
                worst_p99 = max(worst_p99, ours[2])
    verdict = "met" if worst_ratio >= 0.7 and worst_p99 < 300 else "NOT met"
    print(
        f"targets (ratio >= 0.70, p99 < 300 ms at c16): {verdict} "
        f"(worst ratio {worst_ratio:.2f}, worst p99 {worst_p99:.0f} ms)"
    )
    b = rate_limited
    bare_rps = results[("bare", "progress", 16)][0]
    ratio = b["rps"] / bare_rps if bare_rps else float("nan")
    n = args.burst
    print(
        f"\nburst: {n} /csp progress at c16, Slack enforcing 1 message/s per channel (429 beyond)"
    )
    print(
        f"  acks {b['rps']:.0f} req/s = {ratio:.2f}x bare Bolt ({bare_rps:.0f}); p99 "
        f"{b['p99']:.0f} ms; burst {b['seconds']:.2f} s; errors {b['errors']:.0f}"
    )
    print(
        f"  stored {b['stored']:.0f}/{n}; notes in the channel {b['notes']:.0f}/{n}, the last "
        f"{b['visible_after']:.1f} s after the burst; {b['posts']:.0f} posts (allowed "
        f"{int(b['seconds']) + 5}); 429s answered {b['limited']:.0f}"
    )
    burst_ok = (
        b["stored"] == n
        and b["notes"] == n
        and b["p99"] < 300
        and ratio >= 0.5
        and b["visible_after"] <= 30
        and b["posts"] <= int(b["seconds"]) + 5
    )
    print(
        "targets (each stored and posted once, p99 < 300 ms, >= 0.5x bare, in the channel "
        f"within 30 s, <= burst s + 5 posts): {'met' if burst_ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
