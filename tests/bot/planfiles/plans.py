"""The seed plan as the plan-file tests expect to read it, and the calls they share."""

from __future__ import annotations

import pytest

from bot.planfiles.read import read_plan
from bot.planfiles.table import ParsedPlan, PlanFileError
from tests.paths import SEED, SHARED_SEED

SEED_COPY = SEED
REAL_SEED = SHARED_SEED
SEED_TITLE = "Maldon Community Safety Partnership (CSP) Statutory Functions"
SEED_HEADER = "Objective\tOutcome/Action\tTimescale\tProgress"
SEED_OBJECTIVES = [
    "Strategic Assessment",
    "Partnership Plan",
    "Overview and Scrutiny Committee",
    "Strategic management of partnership functions",
    "Public engagement",
    "Perceptions of crime survey",
    "Domestic Homicide Reviews",
    "PREVENT",
    "Human Slavery/Trafficking",
    "Female Genital Mutilation",
    "Safeguarding",
    "Child Sexual Exploitation",
    "Reducing Reoffending",
]
SEED_TIMESCALES = [
    "April 2016",
    "April 2016",
    "March and October 2016 for Maldon District Council and February 2017 for "
    "Chelmsford City Council",
    "Maldon Responsible Authorities Group and One Chelmsford Board meetings are programmed "
    "for March, June, September, December 2016 and March 2017.",
    "Ongoing",
    "31 st March annually",
    "Ongoing",
    "Ongoing March 2016 May 2016 May 2016",
    "Ongoing",
    "Ongoing",
    "Ongoing",
    "Ongoing March 2016",
    "Ongoing",
]
DHR_ACTION = (
    "Act as a led for the District/City should a domestic homicide occur. Pull together all "
    "incidents and information from partner agencies and make recommendations for future "
    "practice."
)


def seed_bytes() -> bytes:
    return SEED_COPY.read_bytes()


def problems_of(data: bytes, filename: str = "plan.csv") -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        read_plan(data, filename)
    return caught.value


def without_lines(plan: ParsedPlan) -> list[dict[str, object]]:
    return [row.model_dump(exclude={"source_line"}) for row in plan.rows]


def assert_is_seed(plan: ParsedPlan) -> None:
    assert plan.format == "seed"
    assert plan.title == SEED_TITLE
    assert [row.title for row in plan.rows] == SEED_OBJECTIVES
    assert [row.timescale for row in plan.rows] == SEED_TIMESCALES
    by_title = {row.title: row for row in plan.rows}
    assert by_title["Domestic Homicide Reviews"].action == DHR_ACTION
    assert by_title["Safeguarding"].action.endswith("concerns around safeguarding")
    assert all(row.progress == "" and row.owners == [] for row in plan.rows)
    assert all(row.statutory_basis is None for row in plan.rows)
    # Lines: 2 blank, title, blank, header, then rows from line 6; the page break
    # (blank, header, continuation) sits on lines 13-15.
    assert [row.source_line for row in plan.rows] == [6, 7, 8, 9, 10, 11, 12, *range(16, 22)]
