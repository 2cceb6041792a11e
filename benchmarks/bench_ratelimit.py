"""1,000 due reminders across 100 channels against a fake Slack enforcing one message
per second per channel. The floor is 10 messages per channel = about 10 s (9 s of
gaps); target within 1.2x. Run: python -m benchmarks.bench_ratelimit"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

from slack_sdk import WebClient

from benchmarks._common import NOW, make_ctx
from bot.deliveries import PlannedDelivery
from bot.plan.members import ensure_partnership
from scheduler.delivery.outbox import Outbox
from scheduler.delivery.planned_rows import insert_planned
from scheduler.delivery.stats import DeliveryStats
from store.db import session_scope
from tests.fakes.slack import FakeSlack

CHANNELS, PER_CHANNEL = 100, 10


def main() -> None:
    with FakeSlack() as fake:
        fake.per_channel_interval = 1.0
        ctx = make_ctx(fake.base_url)
        with session_scope(ctx.sessions) as session:
            p = ensure_partnership(session, ctx.settings, now=NOW)
            planned = [
                PlannedDelivery(
                    key=f"bench:{c}:{i}",
                    kind="delivery_failed",
                    target=f"C{c:04d}",
                    occurrence=NOW,
                    payload={"reason": "x", "failed_target": "C1"},
                )
                for i in range(PER_CHANNEL)
                for c in range(CHANNELS)
            ]
            insert_planned(session, p.id, planned, NOW)
        client = WebClient(token="xoxb-bench", base_url=fake.base_url, retry_handlers=[])
        # Four workers are plenty for 100 posts a second against a local server (each
        # post takes a few ms), and stay under the fake server's listen backlog of 5.
        outbox = Outbox(ctx.sessions, client, per_channel_interval=1.02, workers=4)
        t0 = time.perf_counter()
        # Sweep again, with the clock moved on by the time spent, until every row is
        # sent (a real deployment sweeps every minute; rows deferred by a 429 come
        # due again once their Retry-After has passed).
        stats = DeliveryStats()
        sweeps = 0
        while stats.sent < CHANNELS * PER_CHANNEL and sweeps < 100:
            sweeps += 1
            elapsed = dt.timedelta(seconds=time.perf_counter() - t0)
            stats.add(outbox.run(NOW + elapsed, max_rounds=100))
            if stats.sent < CHANNELS * PER_CHANNEL:
                time.sleep(0.2)
        took = time.perf_counter() - t0
        keys = Counter(
            c.args["metadata"]["event_payload"]["key"]
            for c in fake.calls_to("chat.postMessage", ok=True)
        )
        floor = (PER_CHANNEL - 1) * 1.0
        print(
            f"sent {stats.sent} in {sweeps} sweep(s), 429s {stats.rate_limited}, "
            f"distinct keys {len(keys)}, max per key {max(keys.values())}"
        )
        print(
            f"took {took:.2f} s; floor {floor:.0f} s of enforced gaps "
            f"(+1 s to {PER_CHANNEL} s slots): ratio {took / floor:.2f}x "
            f"({took / PER_CHANNEL:.2f}x of {PER_CHANNEL} s); target 1.2x"
        )


if __name__ == "__main__":
    main()
