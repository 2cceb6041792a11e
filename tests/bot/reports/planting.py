"""A year of progress, meetings and referrals on the seed plan, for the scrutiny pack tests.

Every referral carries MARKER in its reference and (encrypted) in its subject and
concern: the pack must never show either.
"""

from __future__ import annotations

import datetime as dt
import json

from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.context import AppContext
from bot.plan.actions import roll_up
from bot.plan.members import ensure_partnership
from store.db import session_scope
from store.models import Meeting, Objective, ObjectiveStatus, ProgressEntry, Rag, Referral
from tests.conftest import FERNET_KEY, NOW

MARKER = "Qzpackmarkerqz"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def _entry(
    objective: Objective, when: dt.datetime, rag: str | None, note: str, done: bool = False
) -> ProgressEntry:
    return ProgressEntry(
        objective_id=objective.id,
        action_id=objective.actions[0].id,
        author="Sam Officer",
        created_at=when,
        rag=rag,
        done=done,
        note=note,
    )


def plant(ctx: AppContext) -> None:
    fernet = Fernet(FERNET_KEY.encode())
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        objectives = {
            o.title: o
            for o in s.scalars(
                select(Objective).where(
                    Objective.partnership_id == p.id, Objective.plan_year == 2026
                )
            )
        }
        dhr = objectives["Domestic Homicide Reviews"]
        prevent = objectives["PREVENT"]
        assessment = objectives["Strategic Assessment"]
        s.add_all(
            [
                _entry(dhr, at("2026-09-10"), Rag.RED, "Review opened"),
                _entry(dhr, at("2026-10-14"), Rag.AMBER, "Panel booked for 3 March"),
                _entry(dhr, at("2026-11-20"), None, "Chair appointed"),
                _entry(prevent, at("2026-08-01"), Rag.GREEN, "Training delivered"),
                _entry(prevent, at("2026-10-05"), Rag.RED, "Workshops cancelled"),
                _entry(assessment, at("2026-05-05"), None, "Assessment published", True),
            ]
        )
        dhr.actions[0].rag, prevent.actions[0].rag = Rag.AMBER, Rag.RED
        assessment.actions[0].status = ObjectiveStatus.DONE
        for changed in (dhr, prevent, assessment):
            roll_up(changed)
        assessment.schedule[0].done_at = at("2026-05-05")
        meetings = {
            m.body: m
            for m in s.scalars(select(Meeting).where(Meeting.month == dt.date(2026, 12, 1)))
        }
        rag_meeting = meetings["Maldon Responsible Authorities Group"]
        rag_meeting.meeting_date = dt.date(2026, 11, 12)
        rag_meeting.start_time = dt.time(10, 0)
        rag_meeting.place = "Council Chamber"
        meetings["One Chelmsford Board"].meeting_date = dt.date(2026, 12, 9)
        referrals = [
            ("fgm", "immediate", at("2026-10-05"), at("2026-10-05", 10) + dt.timedelta(minutes=10)),
            ("domestic_abuse", "routine", at("2026-10-06"), at("2026-10-09")),
            ("neglect", "within_24h", at("2026-11-26", 8), None),
            ("sexual", "routine", at("2026-11-02"), None),
            ("other", "routine", at("2026-08-03"), at("2026-08-03", 11)),
        ]
        for number, (category, urgency, created, acked) in enumerate(referrals, start=1):
            secret = json.dumps({"name": f"{MARKER} Name", "what": f"{MARKER} narrative"})
            s.add(
                Referral(
                    partnership_id=p.id,
                    reference=f"SG-2026-{MARKER}{number}",
                    submission_key=f"key-{number}",
                    subject_group="child",
                    category=category,
                    urgency=urgency,
                    status="acknowledged" if acked else "open",
                    referrer_slack_id="UMEMBER",
                    created_at=created,
                    acknowledged_at=acked,
                    subject_enc=fernet.encrypt(secret.encode()),
                    concern_enc=fernet.encrypt(secret.encode()),
                )
            )
