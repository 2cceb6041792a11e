"""The plan year an import chooses: the financial year the file is about, and why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.planfiles.importer import import_plan_bytes
from bot.planfiles.rollover import rollover
from bot.planfiles.years import choose_plan_year, financial_year, year_mentions
from store.models import Objective, Partnership
from tests.paths import SEED

DECEMBER_2026 = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)


def _csv(*rows: str, title: str | None = None) -> bytes:
    head = f"{title}\n" if title else ""
    return (head + "Objective,Action,Timescale\n" + "\n".join(rows) + "\n").encode()


def _years(session: Session) -> list[int]:
    return sorted(set(session.scalars(select(Objective.plan_year))))


def test_a_month_falls_in_its_financial_year() -> None:
    assert financial_year(2015, 3) == 2014  # March 2015 is in 2014/15
    assert financial_year(2015, 4) == 2015
    assert year_mentions("March 2015").years == (2014,)
    assert year_mentions("Action plan 2014/15").years == (2014,)
    assert year_mentions("Strategy 2022-2025") == year_mentions("from 2022 to 2025")
    assert year_mentions("Strategy 2022-2025").years == (2022, 2023, 2024)
    assert year_mentions("2022/25").period and not year_mentions("2022/23").period
    assert year_mentions("30/09/2025 and 30.06.26").years == (2025, 2026)
    assert year_mentions("Ongoing").years == ()


def test_end_of_june_2027_in_a_december_2026_import_stays_in_2026_27(
    session: Session, partnership: Partnership
) -> None:
    data = _csv("Hate crime,Refresh the strategy,End of June 2027", "DHR,Publish,Ongoing")
    report = import_plan_bytes(session, partnership, data, "plan.csv", now=DECEMBER_2026)
    assert report.plan_year == 2026 and partnership.plan_year == 2026
    assert "2027/28 has not begun" in report.reason
    assert "--year 2027" in report.reason
    assert _years(session) == [2026]


def test_an_edited_plan_with_a_next_year_date_stays_in_the_live_year(
    session: Session, partnership: Partnership
) -> None:
    first = _csv("Hate crime,Refresh the strategy,December 2026")
    import_plan_bytes(session, partnership, first, "plan.csv", now=DECEMBER_2026)
    edited = _csv("Hate crime,Refresh the strategy,End of June 2027")
    report = import_plan_bytes(session, partnership, edited, "plan.csv", now=DECEMBER_2026)
    assert report.plan_year == 2026 and report.updated == ["Hate crime"]
    assert _years(session) == [2026]


def test_a_2014_15_plan_is_2014_15_not_2015_16(session: Session, partnership: Partnership) -> None:
    data = _csv("Prevent,Train staff,March 2015", "ASB,Publish the policy,December 2014")
    report = import_plan_bytes(session, partnership, data, "plan.csv", now=DECEMBER_2026)
    assert report.plan_year == 2014 and partnership.plan_year == 2014
    assert report.reason == "most of its dates fall in 2014/15"


def test_a_title_naming_2014_15_makes_it_2014_15(
    session: Session, partnership: Partnership
) -> None:
    data = _csv("Prevent,Train staff,March 2015", title="Community Safety Action Plan 2014/15")
    report = import_plan_bytes(session, partnership, data, "plan.csv", now=DECEMBER_2026)
    assert report.plan_year == 2014
    assert report.reason == 'its title names 2014/15 ("Community Safety Action Plan 2014/15")'


def test_year_option_wins(session: Session, partnership: Partnership) -> None:
    data = _csv("Prevent,Train staff,March 2015")
    report = import_plan_bytes(
        session, partnership, data, "plan.csv", now=DECEMBER_2026, plan_year=2019
    )
    assert report.plan_year == 2019 and report.reason == "as asked with --year"


def test_a_multi_year_plan_imports_into_the_year_that_contains_today(
    session: Session, partnership: Partnership
) -> None:
    data = _csv(
        "Violence against women and girls,Commission services,March 2026",
        "Serious violence,Publish the needs assessment,March 2028",
        title="Community Safety Strategy 2025-2028",
    )
    report = import_plan_bytes(session, partnership, data, "plan.csv", now=DECEMBER_2026)
    assert report.plan_year == 2026
    assert "its title names 2025/26 to 2027/28" in report.reason
    assert "which contains today" in report.reason


def test_a_plan_period_in_the_timescales_makes_a_multi_year_plan() -> None:
    choice = choose_plan_year(
        filename="plan.csv",
        asked=None,
        exported=None,
        title=None,
        timescales=["2025-2028", "March 2026", "March 2026"],
        today_year=2026,
        current=None,
        year_exists=lambda year: False,
    )
    assert choice.year == 2026
    assert choice.reason == "its dates run from 2025/26 to 2027/28, which contains today"


def test_a_plan_for_a_year_not_begun_is_refused_without_year(
    session: Session, partnership: Partnership
) -> None:
    data = _csv("Prevent,Train staff,June 2027", title="Community Safety Action Plan 2027/28")
    with pytest.raises(UserError) as refused:
        import_plan_bytes(session, partnership, data, "plan.csv", now=DECEMBER_2026)
    text = str(refused.value)
    assert "2027/28 has not begun" in text and "Nothing was imported" in text
    assert "--year 2027" in text
    assert session.scalar(select(func.count()).select_from(Objective)) == 0
    report = import_plan_bytes(
        session, partnership, data, "plan.csv", now=DECEMBER_2026, plan_year=2027
    )
    assert report.plan_year == 2027 and "has not begun" in report.reason


def test_dates_of_a_later_year_do_not_start_it_over_a_live_plan(
    session: Session, partnership: Partnership
) -> None:
    import_plan_bytes(session, partnership, _csv("A,a,May 2026"), "a.csv", now=DECEMBER_2026)
    # Today is in 2026/27; a file about 2026/27 over a 2025/26 plan is not a rollover.
    partnership.plan_year = 2025
    session.execute(update(Objective).values(plan_year=2025))
    report = import_plan_bytes(
        session, partnership, _csv("A,a,June 2026"), "a.csv", now=DECEMBER_2026
    )
    assert report.plan_year == 2025
    assert "rollover --year 2026" in report.reason


def test_the_seed_is_still_the_2016_17_plan_and_rolls_over(
    session: Session, partnership: Partnership
) -> None:
    report = import_plan_bytes(
        session, partnership, SEED.read_bytes(), "seed.txt", now=DECEMBER_2026
    )
    assert report.plan_year == 2016
    assert report.reason == "most of its dates fall in 2016/17 (they run from 2015/16 to 2016/17)"
    rolled = rollover(session, partnership, 2026, now=DECEMBER_2026)
    assert rolled.objectives == 13 and partnership.plan_year == 2026


def test_a_started_next_year_plan_can_be_imported_again_without_year() -> None:
    # Rolled over early with --force: its own export names a year that exists here.
    choice = choose_plan_year(
        filename="plan.csv",
        asked=None,
        exported=None,
        title="Maldon Community Safety Partnership: plan 2027",
        timescales=["June 2027"],
        today_year=2026,
        current=2027,
        year_exists=lambda year: year == 2027,
    )
    assert choice.year == 2027 and "a plan year already started here" in choice.reason
