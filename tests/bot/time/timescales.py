"""Timescale texts of the seed plan and exactly what each must read as, for the parser tests."""

from __future__ import annotations

import datetime as dt

from bot.time.timescale.model import MeetingSlot, Milestone, Recurrence, Timescale
from tests.paths import SEED as SEED_COPY
from tests.paths import SHARED_SEED

D = dt.date
# The shipped copy is byte-identical (checked in tests/bot/planfiles/test_seed.py); use the
# original when present.
SEED = SHARED_SEED if SHARED_SEED.exists() else SEED_COPY
RAG = "Maldon Responsible Authorities Group"
OCB = "One Chelmsford Board"
MEETINGS_TEXT = (
    "Maldon Responsible Authorities Group and One Chelmsford Board meetings are "
    "programmed for March, June, September, December 2016 and March 2017."
)
SCRUTINY_TEXT = (
    "March and October 2016 for Maldon District Council and February 2017 for "
    "Chelmsford City Council"
)
MEETING_MONTHS = [D(2016, 3, 1), D(2016, 6, 1), D(2016, 9, 1), D(2016, 12, 1), D(2017, 3, 1)]


def month_deadline(due: dt.date, label: str, body: str | None = None) -> Milestone:
    return Milestone(due_on=due, body=body, month_only=True, kind="deadline", label=label)


def ongoing_milestone(due: dt.date, label: str) -> Milestone:
    return Milestone(due_on=due, body=None, month_only=True, kind="milestone", label=label)


MARCH_31_ANNUALLY = Recurrence(
    rrule="FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31",
    dtstart=D(1970, 3, 31),
    body=None,
    label="31 March annually",
)

# Every distinct Timescale cell of the seed plan, with exactly what it must read as.
SEED_EXPECTED: dict[str, Timescale] = {
    "April 2016": Timescale(
        original="April 2016",
        milestones=(month_deadline(D(2016, 4, 29), "April 2016"),),
    ),
    SCRUTINY_TEXT: Timescale(
        original=SCRUTINY_TEXT,
        milestones=(
            month_deadline(D(2016, 3, 31), "March 2016", "Maldon District Council"),
            month_deadline(D(2016, 10, 31), "October 2016", "Maldon District Council"),
            month_deadline(D(2017, 2, 28), "February 2017", "Chelmsford City Council"),
        ),
    ),
    MEETINGS_TEXT: Timescale(
        original=MEETINGS_TEXT,
        meetings=tuple(
            MeetingSlot(body=body, month=month) for body in (RAG, OCB) for month in MEETING_MONTHS
        ),
    ),
    "Ongoing": Timescale(original="Ongoing", ongoing=True),
    "31 st March annually": Timescale(
        original="31 st March annually", recurrences=(MARCH_31_ANNUALLY,)
    ),
    "Ongoing March 2016 May 2016 May 2016": Timescale(
        original="Ongoing March 2016 May 2016 May 2016",
        ongoing=True,
        milestones=(
            ongoing_milestone(D(2016, 3, 31), "March 2016"),
            ongoing_milestone(D(2016, 5, 31), "May 2016"),
        ),
    ),
    "Ongoing March 2016": Timescale(
        original="Ongoing March 2016",
        ongoing=True,
        milestones=(ongoing_milestone(D(2016, 3, 31), "March 2016"),),
    ),
}
