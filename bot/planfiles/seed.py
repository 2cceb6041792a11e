"""The seed plan shipped with the bot, and loading it into an empty database."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from sqlalchemy.orm import Session

from bot.plan.members import ensure_partnership
from bot.plan.years import current_plan_year, local_today
from bot.planfiles.importer import apply_plan
from bot.planfiles.queries import has_objectives
from bot.planfiles.read import read_plan
from bot.planfiles.rollover import rollover
from bot.planfiles.table import ParsedPlan
from bot.settings import Settings

SEED_PLAN_RESOURCE = "seed-plan.txt"

#: Statutory basis of the seed's objectives (see the project's domain notes).
SEED_STATUTORY_BASIS: dict[str, str] = {
    "Strategic Assessment": (
        "Crime and Disorder Act 1998 s.6; Crime and Disorder (Formulation and "
        "Implementation of Strategy) Regulations 2007 (assessment yearly)"
    ),
    "Partnership Plan": (
        "Crime and Disorder Act 1998 s.6; Crime and Disorder (Formulation and "
        "Implementation of Strategy) Regulations 2007; plan sent to the Police and Crime "
        "Commissioner, with regard to the Police and Crime Plan (s.6(1A))"
    ),
    "Overview and Scrutiny Committee": (
        "Police and Justice Act 2006 s.19 (crime and disorder committee)"
    ),
    "Strategic management of partnership functions": (
        "Responsible Authorities Group (Crime and Disorder Act 1998 s.5); quarterly by "
        "local practice"
    ),
    "Domestic Homicide Reviews": "Domestic Violence, Crime and Victims Act 2004 s.9",
    "PREVENT": (
        "Counter-Terrorism and Security Act 2015 s.26 (due regard) and s.36 (Channel panels)"
    ),
    "Human Slavery/Trafficking": "Modern Slavery Act 2015 s.52 (duty to notify the Home Office)",
    "Female Genital Mutilation": (
        "Female Genital Mutilation Act 2003 s.5B (known cases in under-18s reported to police)"
    ),
    "Safeguarding": "Children Act 2004 s.11; Care Act 2014 s.42",
    "Child Sexual Exploitation": (
        "Child protection duties; Essex CSE and Missing Arrangements (MACE meetings)"
    ),
    "Reducing Reoffending": (
        "Policing and Crime Act 2009 s.108; Integrated Offender Management; Drug Testing on "
        "Arrest (PACE s.63B)"
    ),
}


def seed_plan_bytes() -> bytes:
    """The seed plan shipped with the bot (the Maldon CSP statutory functions table)."""
    return resources.files("bot").joinpath("data").joinpath(SEED_PLAN_RESOURCE).read_bytes()


def load_seed_plan(*, with_statutory_basis: bool = True) -> ParsedPlan:
    """The shipped seed plan, parsed; by default each objective gets its statutory basis."""
    plan = read_plan(seed_plan_bytes(), SEED_PLAN_RESOURCE)
    if with_statutory_basis:
        for row in plan.rows:
            if row.statutory_basis is None:
                row.statutory_basis = SEED_STATUTORY_BASIS.get(row.title)
    return plan


def load_seed_if_empty(session: Session, settings: Settings, *, now: dt.datetime) -> int:
    """Load the bundled seed plan into an empty database and roll it forward to the
    current plan year, so its dates are live. Returns objectives loaded (0: not empty)."""
    partnership = ensure_partnership(session, settings, now=now)
    if has_objectives(session, partnership.id):
        return 0
    report = apply_plan(session, partnership, load_seed_plan(), now=now)
    target = current_plan_year(local_today(partnership, now))
    if target > report.plan_year:
        rollover(session, partnership, target, now=now)
    return len(report.created)
