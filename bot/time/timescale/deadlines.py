"""One-off dates: deadlines, and milestones when the work is ongoing or a meeting is meant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.time.timescale.bodies import bodies_for
from bot.time.timescale.duedates import DeadlineDay, month_due, policy_for
from bot.time.timescale.model import Milestone, MilestoneKind
from bot.time.timescale.state import Item, Walk
from bot.time.workdays import WorkingCalendar


def milestone_kind(walk: Walk, meeting: bool) -> MilestoneKind:
    """Dates of ongoing work or of a meeting text are milestones; others are deadlines."""
    return "milestone" if walk.ongoing or meeting else "deadline"


def milestones(
    item: Item,
    bodies: Sequence[str],
    kind: MilestoneKind,
    policy: DeadlineDay,
    cal: WorkingCalendar,
) -> list[Milestone]:
    """The item as one dated thing per body (a month alone is due by ``policy``)."""
    if item.day is not None:
        due = dt.date(item.year, item.month, item.day)
    else:
        due = month_due(item.year, item.month, policy_for(item.label, policy), cal)
    return [
        Milestone(
            due_on=due,
            body=b,
            month_only=item.day is None,
            kind=kind,
            label=item.label,
        )
        for b in bodies_for(item, bodies)
    ]
