"""A year of hourly sweeps over the seed plan, checked against dates worked out by hand.

The seed is loaded on 1 April 2026 (plan year 2026/27) and swept every hour until
1 April 2027 with an injected clock. Nobody owns anything in the seed, so reminders go
to the partnership channel; "set the date" prompts go to the admin. Send time is 09:00
London: 08:00Z in summer time, 09:00Z in winter.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import FixedClock
from bot.context import AppContext
from bot.plan.meetings import set_meeting
from bot.plan.members import resolve_actor
from bot.planfiles.seed import load_seed_if_empty
from scheduler.gate import reset_gate
from scheduler.sweep import run_sweep
from store.db import session_scope
from store.models import Delivery, DeliveryStatus, Objective, Partnership
from tests.fakes.slack import FakeSlack

START = dt.datetime(2026, 4, 1, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2027, 4, 1, 0, 0, tzinfo=dt.UTC)
CH = "C0PARTNER"


def utc(y: int, m: int, d: int, h: int) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=dt.UTC)


@pytest.mark.slow
@pytest.mark.timeout(900)  # about 3 minutes of CPU on a 2-core machine; more under load
def test_a_year_of_hourly_sweeps(ctx: AppContext, fake_slack: FakeSlack, clock: FixedClock) -> None:
    reset_gate()
    clock.set(START)
    with session_scope(ctx.sessions) as session:
        session.info["clock"] = clock
        assert load_seed_if_empty(session, ctx.settings, now=START) > 0
        p = session.scalars(select(Partnership)).one()
        admin = resolve_actor(session, p, "UADMIN", now=START)
        set_meeting(
            session,
            p,
            admin,
            "Maldon Responsible Authorities Group",
            dt.date(2026, 6, 9),
            dt.time(10, 0),
            "Council offices",
            now=START,
        )
        ids = {
            o.title: o.id
            for o in session.scalars(select(Objective).where(Objective.plan_year == p.plan_year))
        }
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    at = START
    while at < END:
        clock.set(at)
        run_sweep(ctx, client=client, per_channel_interval=0)
        if at.hour == 12 and at.day == 1:
            # sweeping twice at the same instant sends nothing new
            assert run_sweep(ctx, client=client, per_channel_interval=0).outbox.sent == 0
        at += dt.timedelta(hours=1)

    with session_scope(ctx.sessions) as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.sent_at, Delivery.id)))
    assert {r.status for r in rows} <= {DeliveryStatus.SENT, DeliveryStatus.DROPPED}
    sent = {r.key: r for r in rows if r.status == DeliveryStatus.SENT}
    # Every message went out exactly once and carries its key.
    posted = Counter(
        c.args["metadata"]["event_payload"]["key"]
        for c in fake_slack.calls_to("chat.postMessage", ok=True)
    )
    assert set(posted.values()) == {1} and set(posted) == set(sent)

    def check(key: str, when: dt.datetime, target: str = CH) -> None:
        row = sent[key]
        assert (row.sent_at, row.target) == (when, target), key

    sa, pp, osc = (
        ids["Strategic Assessment"],
        ids["Partnership Plan"],
        ids["Overview and Scrutiny Committee"],
    )
    survey, prevent = ids["Perceptions of crime survey"], ids["PREVENT"]
    # Month-only deadline "April 2026": last working day, Thu 30 April (summer time).
    check(f"rem:o{sa}:2026-04-30:d14:{CH}", utc(2026, 4, 16, 8))
    check(f"rem:o{sa}:2026-04-30:d7:{CH}", utc(2026, 4, 23, 8))
    check(f"rem:o{sa}:2026-04-30:wd1:{CH}", utc(2026, 4, 29, 8))
    check(f"rem:o{sa}:2026-04-30:day:{CH}", utc(2026, 4, 30, 8))
    check(f"rem:o{sa}:2026-04-30:overdue1:{CH}", utc(2026, 5, 7, 8))
    check(f"rem:o{pp}:2026-04-30:day:{CH}", utc(2026, 4, 30, 8))
    # Across the October clock change (25 Oct): Fri 30 Oct deadline.
    check(f"rem:o{osc}:2026-10-30:d14:{CH}", utc(2026, 10, 16, 8))
    check(f"rem:o{osc}:2026-10-30:d7:{CH}", utc(2026, 10, 23, 8))
    check(f"rem:o{osc}:2026-10-30:wd1:{CH}", utc(2026, 10, 29, 9))
    check(f"rem:o{osc}:2026-10-30:day:{CH}", utc(2026, 10, 30, 9))
    # Weekly overdue on Fridays; Christmas Day (Fri) and Boxing Day (observed Mon 28)
    # move the 8th to Tue 29 Dec; New Year's Day moves the 9th to Mon 4 Jan, a digest
    # day, so the digest that morning lists it instead of a notice of its own.
    check(f"rem:o{osc}:2026-10-30:overdue7:{CH}", utc(2026, 12, 18, 9))
    check(f"rem:o{osc}:2026-10-30:overdue8:{CH}", utc(2026, 12, 29, 9))
    assert f"rem:o{osc}:2026-10-30:overdue9:{CH}" not in sent
    assert not [
        r
        for r in rows
        if r.kind == "overdue"
        and r.target == CH
        and r.sent_at
        and r.sent_at.astimezone(ctx.settings.zone).weekday() == 0
    ]
    # Good Friday 26 Mar and Easter Monday 29 Mar 2027, then summer time from 28 Mar.
    check(f"rem:o{osc}:2026-10-30:overdue21:{CH}", utc(2027, 3, 30, 8))
    # 31 March annually: 2027's notices (Easter and the March clock change in between).
    check(f"rem:o{survey}:2027-03-31:d14:{CH}", utc(2027, 3, 17, 9))
    check(f"rem:o{survey}:2027-03-31:d7:{CH}", utc(2027, 3, 24, 9))
    check(f"rem:o{survey}:2027-03-31:wd1:{CH}", utc(2027, 3, 30, 8))
    check(f"rem:o{survey}:2027-03-31:day:{CH}", utc(2027, 3, 31, 8))
    # ...and nothing for 2026's: the plan was loaded on 1 April, after it.
    assert not [key for key in sent if key.startswith(f"rem:o{survey}:2026-03-31:")]
    # Milestone "May 2026" (Fri 29 May), after the May bank holidays.
    check(f"rem:o{prevent}:2026-05-29:d14:{CH}", utc(2026, 5, 15, 8))
    check(f"rem:o{prevent}:2026-05-29:wd1:{CH}", utc(2026, 5, 28, 8))
    # A meeting month: Maldon RAG set for Tue 9 June 10:00; its One Chelmsford twin is
    # undated, so the admin is asked a month ahead (Sat 2 May -> Fri 1 May).
    rag = [r for r in rows if r.kind == "meeting"]
    assert sorted((r.sent_at, r.target, r.payload["stage"]) for r in rag) == [
        (utc(2026, 6, 2, 8), CH, "meeting_d7"),
        (utc(2026, 6, 9, 8), CH, "meeting_day"),
    ]
    prompts = sorted(
        (r.sent_at, r.target, r.payload["body"]) for r in rows if r.kind == "meeting_set_date"
    )
    assert prompts == [
        (utc(2026, 5, 1, 8), "UADMIN", "One Chelmsford Board"),
        (utc(2026, 7, 31, 8), "UADMIN", "Maldon Responsible Authorities Group"),
        (utc(2026, 7, 31, 8), "UADMIN", "One Chelmsford Board"),
        (utc(2026, 10, 30, 9), "UADMIN", "Maldon Responsible Authorities Group"),
        (utc(2026, 10, 30, 9), "UADMIN", "One Chelmsford Board"),
        (utc(2027, 1, 29, 9), "UADMIN", "Maldon Responsible Authorities Group"),
        (utc(2027, 1, 29, 9), "UADMIN", "One Chelmsford Board"),
    ]
    # Progress checks for the 8 ongoing objectives: every 30 days from 1 April, moved
    # to the next working day (Sat 29 Aug -> Tue 1 Sep after the summer bank holiday;
    # Sat 27 Mar 2027 -> Tue 30 Mar after Easter Monday).
    quiet = sorted({r.sent_at for r in rows if r.kind == "quiet" and r.sent_at is not None})
    assert quiet[:5] == [
        utc(2026, 5, 1, 8),
        utc(2026, 6, 1, 8),
        utc(2026, 6, 30, 8),
        utc(2026, 7, 30, 8),
        utc(2026, 9, 1, 8),
    ]
    assert quiet[-1] == utc(2027, 3, 30, 8)
    # Digest: every Monday 09:00 London, bank holidays included, once per ISO week.
    # Monday 30 March's is within its 48 hours at the first sweep (01:00 Wednesday), but
    # a late digest waits for working hours and its 48 hours end at 09:00: dropped.
    digests = sorted(r.sent_at for r in rows if r.kind == "digest" and r.sent_at is not None)
    assert len(digests) == 52
    assert digests[0] == utc(2026, 4, 6, 8) and digests[-1] == utc(2027, 3, 29, 8)
    assert utc(2026, 10, 26, 9) in digests and utc(2026, 12, 28, 9) in digests
    # Nothing is ever sent at night or on a weekend, the late catch-up at start included.
    for r in rows:
        if r.status == DeliveryStatus.SENT:
            assert r.sent_at is not None
            local = r.sent_at.astimezone(ctx.settings.zone)
            assert local.hour == 9 and local.minute == 0, r.key
            if r.kind not in ("digest",):
                assert local.weekday() < 5, r.key
    counts = Counter(r.kind for r in rows if r.status == DeliveryStatus.SENT)
    print(dict(counts))
    assert counts == EXPECTED_COUNTS, counts


# deadline: 4 notices each for Apr 30 (x2), Oct 30, Feb 26, 31 Mar 2027 and PREVENT's
# May 29, plus 3 "on the day" notices still live at the first sweep (the dated 31 Mar
# 2026 items; the yearly survey was loaded after its 2026 date, so it has none);
# quiet: 8 ongoing objectives x 12 thirty-day prompts; set-date: 8 undated meetings
# minus the one given a date; digest: 52 Mondays (30 March's, late, expired at 09:00 on
# 1 April before working hours began); overdue: every weekly notice to the channel except
# the two that fall on a Monday (New Year moves one there), which that morning's
# digest lists instead.
EXPECTED_COUNTS = {
    "deadline": 27,
    "digest": 52,
    "overdue": 316,
    "quiet": 96,
    "meeting_set_date": 7,
    "meeting": 2,
}
