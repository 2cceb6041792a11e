"""Reminder policy: pure date rules (working days, clock changes, supersession)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.time.policy import (
    ReminderPolicy,
    crossed_send_time,
    deadline_notices,
    digest_occurrence,
    latest_overdue,
    meeting_notices,
    parse_digest_at,
    quiet_prompt,
    set_date_prompt,
)

LONDON = ZoneInfo("Europe/London")
P = ReminderPolicy()


def utc(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=dt.UTC)


def test_deadline_notices_default_stages_and_chain() -> None:
    ns = deadline_notices(dt.date(2026, 4, 30), P, LONDON)
    assert [(n.stage, n.on) for n in ns] == [
        ("d14", dt.date(2026, 4, 16)),
        ("d7", dt.date(2026, 4, 23)),
        ("wd1", dt.date(2026, 4, 29)),
        ("day", dt.date(2026, 4, 30)),
    ]
    assert ns[0].at == utc(2026, 4, 16, 8)  # 09:00 BST
    assert [n.useful_until for n in ns[:-1]] == [n.at for n in ns[1:]]
    assert ns[-1].useful_until == utc(2026, 5, 7, 8)  # first overdue


def test_before_notices_move_to_previous_working_day() -> None:
    # Tue 5 Jan 2027: d14 = Tue 22 Dec; d7 = Tue 29 Dec; wd1 = Mon 4 Jan.
    ns = deadline_notices(dt.date(2027, 1, 5), P, LONDON)
    assert [n.on for n in ns] == [
        dt.date(2026, 12, 22),
        dt.date(2026, 12, 29),
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 5),
    ]
    # Due Mon 4 Jan 2027: d7 = Mon 28 Dec (Boxing Day observed) -> Thu 24 Dec;
    # 1 working day before = Thu 31 Dec (1 Jan is a bank holiday).
    ns = deadline_notices(dt.date(2027, 1, 4), P, LONDON)
    assert [(n.stage, n.on) for n in ns] == [
        ("d14", dt.date(2026, 12, 21)),
        ("d7", dt.date(2026, 12, 24)),
        ("wd1", dt.date(2026, 12, 31)),
        ("day", dt.date(2027, 1, 4)),
    ]


def test_weekend_deadline_collapses_onto_the_friday() -> None:
    ns = deadline_notices(dt.date(2026, 10, 31), P, LONDON)  # Saturday
    assert [(n.stage, n.on) for n in ns][-1] == ("day", dt.date(2026, 10, 30))
    assert len({n.on for n in ns}) == len(ns)


def test_overdue_is_weekly_and_skips_bank_holidays() -> None:
    due = dt.date(2026, 12, 18)  # Friday
    n, notice = latest_overdue(due, utc(2026, 12, 29, 9), P, LONDON) or (0, None)
    assert n == 1 and notice is not None and notice.on == dt.date(2026, 12, 29)
    assert latest_overdue(due, utc(2026, 12, 29, 8, 59), P, LONDON) is None
    assert latest_overdue(due, utc(2026, 12, 18, 12), P, LONDON) is None


def test_meeting_notices_and_early_start() -> None:
    ns = meeting_notices(dt.date(2026, 6, 9), dt.time(8, 30), P, LONDON)
    assert [(n.stage, n.on) for n in ns] == [
        ("meeting_d7", dt.date(2026, 6, 2)),
        ("meeting_day", dt.date(2026, 6, 9)),
    ]
    assert ns[1].at == utc(2026, 6, 9, 6, 30)  # 07:30 BST, an hour before 08:30
    early = meeting_notices(dt.date(2026, 6, 9), dt.time(7, 45), P, LONDON)
    assert early[1].at == utc(2026, 6, 9, 6)  # never before 07:00 BST
    assert ns[0].useful_until == ns[1].at


def test_set_date_prompt_a_month_ahead() -> None:
    n = set_date_prompt(dt.date(2026, 12, 1), P, LONDON)
    assert n.on == dt.date(2026, 10, 30) and n.at == utc(2026, 10, 30, 9)


def test_quiet_prompt_every_30_days() -> None:
    start = utc(2026, 4, 1, 0)
    assert quiet_prompt(start, utc(2026, 4, 30, 12), P, LONDON) is None
    n = quiet_prompt(start, utc(2026, 5, 1, 8), P, LONDON)
    assert n is not None and n.on == dt.date(2026, 5, 1)


def test_digest_week_and_settings() -> None:
    found = digest_occurrence(utc(2026, 11, 30, 9, 1), P, LONDON)
    assert found is not None and found[0] == "2026-W49" and found[1] == utc(2026, 11, 30, 9)
    assert digest_occurrence(utc(2026, 11, 30, 8, 59), P, LONDON) is None
    policy = ReminderPolicy.from_settings(
        {"reminders": {"days_before": [30, 7], "send_at": "08:30", "digest_at": "fri 16:00"}}
    )
    assert policy.days_before == (30, 7) and policy.send_at == dt.time(8, 30)
    assert policy.digest_at == parse_digest_at("Fri 16:00")
    with pytest.raises(ValueError, match="mon 09:00"):
        parse_digest_at("someday")


def test_crossed_send_time_across_clock_change() -> None:
    times = (dt.time(9, 0),)
    assert crossed_send_time(utc(2026, 10, 25, 8, 30), utc(2026, 10, 25, 9, 0), times, LONDON)
    assert not crossed_send_time(utc(2026, 10, 25, 7, 0), utc(2026, 10, 25, 8, 59), times, LONDON)


def test_catch_up_waits_for_working_hours() -> None:
    from bot.time.policy import ReminderPolicy, catch_up_open, held_for_working_hours, next_catch_up

    london = ZoneInfo("Europe/London")
    policy = ReminderPolicy()

    def at(d: int, h: int, m: int = 0) -> dt.datetime:  # November 2026, London = UTC
        return dt.datetime(2026, 11, d, h, m, tzinfo=dt.UTC)

    meant = at(24, 9)  # a Tuesday 09:00 notice, missed
    assert held_for_working_hours(meant, at(26, 5, 10), policy, london)  # Thu 05:10
    assert not held_for_working_hours(meant, at(26, 9), policy, london)
    assert held_for_working_hours(meant, at(26, 18), policy, london)  # evening
    assert held_for_working_hours(meant, at(28, 11), policy, london)  # Saturday
    assert not held_for_working_hours(at(26, 9), at(26, 9, 30), policy, london)  # on time
    assert next_catch_up(at(26, 5, 10), policy, london) == at(26, 9)
    assert next_catch_up(at(27, 19), policy, london) == at(30, 9)  # Fri evening -> Mon
    assert next_catch_up(at(26, 10), policy, london) == at(26, 10)
    # Christmas: Fri 25 and Mon 28 (Boxing Day observed) are not working days.
    assert next_catch_up(dt.datetime(2026, 12, 24, 20, tzinfo=dt.UTC), policy, london) == (
        dt.datetime(2026, 12, 29, 9, tzinfo=dt.UTC)
    )
    assert not catch_up_open(dt.datetime(2026, 12, 28, 10, tzinfo=dt.UTC), policy, london)
    late_window = ReminderPolicy.from_settings({"reminders": {"catch_up_until": "20:00"}})
    assert catch_up_open(at(26, 19), late_window, london)
