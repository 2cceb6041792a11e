"""Plan rollover: the next plan year started from the current one, dates moved on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.actions import add_action, roll_up
from bot.plan.catch_up import mark_catch_up
from bot.plan.years import plan_year_label
from bot.planfiles.queries import objectives_to_roll_over, plan_year_exists
from bot.planfiles.schedules import apply_schedule, link_meetings, parse_for_plan
from bot.planfiles.years import shift_text_years
from bot.text.numbers import plural
from store.models import Objective, ObjectiveOwner, ObjectiveStatus, Partnership


@dataclass
class RolloverReport:
    """What a rollover started: the two years, how many objectives, which need dating."""

    from_year: int
    to_year: int
    objectives: int
    needs_dating: list[str]

    def summary(self) -> str:
        text = (
            f"Started the {plan_year_label(self.to_year)} plan from "
            f"{plan_year_label(self.from_year)}: {plural(self.objectives, 'objective')}, dates "
            f"moved on {plural(self.to_year - self.from_year, 'year')}, progress starts fresh; the "
            f"{plan_year_label(self.from_year)} plan and its history stay readable."
        )
        if self.needs_dating:
            text += " Needs dating: " + ", ".join(self.needs_dating) + "."
        return text


def rollover(
    session: Session, partnership: Partnership, to_year: int, *, now: dt.datetime
) -> RolloverReport:
    """Start plan year ``to_year`` from the current one: years in each timescale move on
    (so month deadlines land on that year's last working day), recurring items carry over,
    owners carry over, progress starts fresh, the old year stays as history."""
    from_year = partnership.plan_year
    if to_year <= from_year:
        raise UserError(
            f"The current plan year is {from_year}; roll over to a later year, "
            f"e.g. `csp-bot plan rollover --year {from_year + 1}`."
        )
    if plan_year_exists(session, partnership.id, to_year):
        raise UserError(f"A {to_year} plan already exists; nothing was changed.")
    years = to_year - from_year
    old = objectives_to_roll_over(session, partnership.id, from_year)
    report = RolloverReport(from_year, to_year, 0, [])
    for source in old:
        text = shift_text_years(source.timescale_text, years)
        fresh = Objective(
            partnership_id=partnership.id,
            plan_year=to_year,
            position=source.position,
            title=source.title,
            statutory_basis=source.statutory_basis,
            status=ObjectiveStatus.OPEN,
            needs_dating=False,
            file_columns=source.file_columns,
            created_at=now,
            updated_at=now,
        )
        session.add(fresh)
        readings = []
        for old_action in source.actions:
            text = shift_text_years(old_action.timescale_text, years)
            action = add_action(fresh, text=old_action.text, timescale_text=text, now=now)
            action.file_columns = old_action.file_columns
            action.owners.extend(
                ObjectiveOwner(label=o.label, slack_user_id=o.slack_user_id)
                for o in old_action.owners
            )
            reading = parse_for_plan(text, to_year)
            readings.append(reading)
            apply_schedule(session, partnership, action, reading, now=now)
        roll_up(fresh)
        session.flush()
        link_meetings(session, fresh, readings)
        report.objectives += 1
        if fresh.needs_dating:
            report.needs_dating.append(fresh.title)
    partnership.plan_year = to_year
    mark_catch_up(partnership, now)  # what is overdue in the new year is summarised once
    session.flush()
    return report
