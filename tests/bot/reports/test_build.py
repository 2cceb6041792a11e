"""The scrutiny pack's model: RAG then and now, notes, overdue, next deadlines, the cycle."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.context import AppContext
from bot.errors import UserError
from bot.plan.members import ensure_partnership
from bot.reports.build import build_report
from bot.reports.model import ActionSection, Report
from bot.time.quarters import parse_quarter
from store.db import session_scope
from tests.bot.reports.planting import plant
from tests.conftest import NOW


def report_for(ctx: AppContext, quarter: str, now: dt.datetime = NOW) -> Report:
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=now)
        return build_report(s, p, parse_quarter(quarter), now=now)


@pytest.fixture
def planted(seeded_ctx: AppContext) -> AppContext:
    plant(seeded_ctx)
    return seeded_ctx


def _action(report: Report, title: str) -> ActionSection:
    (section,) = [o for o in report.objectives if o.title == title]
    (action,) = section.actions  # one action per objective in today's plan
    return action


def test_rag_now_and_at_the_quarters_start_come_from_progress_history(
    planted: AppContext,
) -> None:
    report = report_for(planted, "2026Q3")
    assert report.as_at == dt.date(2026, 11, 26) and not report.complete
    dhr = _action(report, "Domestic Homicide Reviews")
    assert (dhr.rag_start, dhr.rag_now) == ("red", "amber")
    assert [n.note for n in dhr.notes] == ["Panel booked for 3 March", "Chair appointed"]
    assert [n.status for n in dhr.notes] == ["amber", ""]
    prevent = _action(report, "PREVENT")
    assert (prevent.rag_start, prevent.rag_now) == ("green", "red")
    counts = {c.bucket: (c.at_start, c.now) for c in report.summary.counts}
    assert counts["red"] == (1, 1) and counts["amber"] == (0, 1) and counts["green"] == (1, 0)
    assert counts["done"] == (1, 1)
    assert report.summary.improved == 1 and report.summary.worsened == 1
    assert report.summary.notes == 3


def test_a_past_quarter_is_read_as_it_stood_then(planted: AppContext) -> None:
    report = report_for(planted, "2026Q2")
    assert report.as_at == dt.date(2026, 9, 30) and report.complete
    dhr = _action(report, "Domestic Homicide Reviews")
    assert (dhr.rag_start, dhr.rag_now) == ("not rated", "red")
    assert [n.note for n in dhr.notes] == ["Review opened"]
    assert _action(report, "PREVENT").rag_now == "green"
    # The same quarter made months later says the same.
    assert report_for(planted, "2026Q2", NOW + dt.timedelta(days=90)) == report


def test_what_is_overdue_and_for_how_long(planted: AppContext) -> None:
    report = report_for(planted, "2026Q3")
    plan = _action(report, "Partnership Plan")
    assert [(o.label, o.days) for o in plan.overdue] == [("April 2026", 210)]
    scrutiny = _action(report, "Overview and Scrutiny Committee")
    assert [o.days for o in scrutiny.overdue] == [240, 27]
    assert _action(report, "Strategic Assessment").overdue == ()  # done in May


def test_next_quarters_deadlines(planted: AppContext) -> None:
    report = report_for(planted, "2026Q3")
    scrutiny = _action(report, "Overview and Scrutiny Committee")
    assert [(d.due_on, d.label) for d in scrutiny.next_deadlines] == [
        (dt.date(2027, 2, 26), "February 2027 (Chelmsford City Council)")
    ]
    survey = _action(report, "Perceptions of crime survey")
    assert [d.due_on for d in survey.next_deadlines] == [dt.date(2027, 3, 31)]


def test_meetings_held_and_coming(planted: AppContext) -> None:
    report = report_for(planted, "2026Q3")
    assert [(m.body, m.when, m.place) for m in report.meetings_held] == [
        ("Maldon Responsible Authorities Group", "12 November 2026 10:00", "Council Chamber")
    ]
    coming = [(m.body, m.when) for m in report.meetings_coming]
    assert coming[0] == ("One Chelmsford Board", "9 December 2026")
    assert ("One Chelmsford Board", "March 2027 (date to be set)") in coming


def test_the_statutory_cycle_says_whether_each_date_is_on_time(planted: AppContext) -> None:
    cycle = [(c.duty, c.label, c.state, c.detail) for c in report_for(planted, "2026Q3").cycle]
    assert ("Strategic assessment", "April 2026", "done late", "done 5 May 2026") in cycle
    assert ("Partnership plan", "April 2026", "overdue", "overdue by 210 days") in cycle
    assert (
        "Scrutiny",
        "October 2026 (Maldon District Council)",
        "overdue",
        "overdue by 27 days",
    ) in cycle
    assert (
        "Scrutiny",
        "February 2027 (Chelmsford City Council)",
        "due",
        "due in 92 days",
    ) in cycle


def test_referrals_are_counted_by_category_urgency_and_clock(planted: AppContext) -> None:
    figures = report_for(planted, "2026Q3").referrals
    assert figures.total == 4  # the August referral belongs to Q2
    categories = {r.label: r.count for r in figures.by_category}
    assert categories["FGM"] == 1 and categories["Domestic abuse"] == 1
    assert categories["Other"] == 0
    urgency = {r.label: r.count for r in figures.by_urgency}
    assert urgency == {"Immediate risk": 1, "Within 24 hours": 1, "Routine": 2}
    clock = {r.label: r.count for r in figures.by_clock}
    assert clock == {
        "Acknowledged within the clock": 1,
        "Acknowledged after the clock ran out": 1,
        "Awaiting acknowledgement, within the clock": 1,  # raised at 08:00, due at 12:00
        "Awaiting acknowledgement, past the clock": 1,
    }


def test_a_quarter_that_has_not_started_is_refused_kindly(planted: AppContext) -> None:
    with pytest.raises(UserError, match=r"has not started yet.*current quarter is 2026Q3"):
        report_for(planted, "2026Q4")
