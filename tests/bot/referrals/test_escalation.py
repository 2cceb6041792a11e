from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

# Imported for its registrations: the escalation renderer looked up below.
from bot.clock import FixedClock
from bot.notices.registry import renderer_for
from bot.plan.members import Actor
from bot.referrals import crypto
from bot.referrals.escalation import escalation_source, escalation_steps
from bot.referrals.form import ReferralForm
from bot.referrals.records import create_referral
from bot.referrals.workflow import acknowledge
from store.db import make_engine
from store.models import Base, Delivery, Member, Partnership, Role

LONDON = ZoneInfo("Europe/London")
KEY = crypto.generate_key()
MEMBER = Actor("UMEMBER", Role.MEMBER, None)
LEAD = Actor("ULEAD", Role.LEAD, None)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=LONDON)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    crypto.configure([KEY])
    engine = make_engine(f"sqlite:///{tmp_path / 'e.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        p = Partnership(
            name="P",
            plan_year=2026,
            settings={},
            referral_seq=0,
            created_at=at(2026, 1, 1, 9),
            safeguarding_channel="C0SAFE",
        )
        s.add(p)
        s.flush()
        for user, role in (("ULEAD", Role.LEAD), ("UADMIN", Role.ADMIN), ("UMEMBER", Role.MEMBER)):
            s.add(
                Member(partnership_id=p.id, slack_user_id=user, role=role, created_at=p.created_at)
            )
        s.flush()
        yield s
    engine.dispose()


def _raise(session: Session, urgency: str, when: dt.datetime) -> str:
    p = session.get(Partnership, 1)
    assert p is not None
    form = ReferralForm.model_validate(
        {
            "subject_group": "child",
            "category": "neglect",
            "urgency": urgency,
            "subject_name": "N",
            "what_happened": "W",
            "how_known": "H",
            "referrer_role": "R",
            "referrer_agency": "A",
            "referrer_contact": "C",
            "consent": "given",
        }
    )
    made = create_referral(session, p, MEMBER, form, submission_key=f"{urgency}{when}", now=when)
    return made.reference


def _sweep(session: Session, clock: FixedClock) -> list[tuple[str, str, int]]:
    """Insert what the source proposes (unique keys, as the outbox does); return new rows."""
    p = session.get(Partnership, 1)
    assert p is not None
    new = []
    for planned in escalation_source(session, p, clock.now()):
        if session.scalar(select(Delivery).where(Delivery.key == planned.key)) is not None:
            continue
        assert set(planned.payload) == {"reference", "category", "urgency", "step"}
        session.add(
            Delivery(
                partnership_id=1,
                key=planned.key,
                kind=planned.kind,
                target=planned.target,
                occurrence=planned.occurrence,
                referral_id=planned.referral_id,
                next_attempt_at=planned.occurrence,
                payload=planned.payload,
                created_at=clock.now(),
            )
        )
        new.append((planned.payload["reference"], planned.target, planned.payload["step"]))
    session.flush()
    return new


def test_routine_over_christmas_bank_holidays(session: Session) -> None:
    start = at(2026, 12, 24, 16)  # Thursday; 25 and 28 December are bank holidays
    ref = _raise(session, "routine", start)
    clock = FixedClock(start)
    steps = escalation_steps("routine", start, LONDON)
    assert next(steps)[1] == at(2026, 12, 29, 16)
    assert next(steps)[1] == at(2026, 12, 30, 16)
    clock.set(at(2026, 12, 29, 15, 59))
    assert _sweep(session, clock) == []
    clock.set(at(2026, 12, 29, 16))
    assert sorted(_sweep(session, clock)) == [(ref, "UADMIN", 1), (ref, "ULEAD", 1)]
    clock.advance(dt.timedelta(minutes=1))
    assert _sweep(session, clock) == []  # each step exactly once
    clock.set(at(2026, 12, 30, 16))
    assert {s for _, _, s in _sweep(session, clock)} == {2}


def test_within_24_hours_counts_working_hours(session: Session) -> None:
    start = at(2026, 12, 24, 15)  # 2 working hours left on Thursday
    steps = escalation_steps("within_24h", start, LONDON)
    assert next(steps)[1] == at(2026, 12, 29, 11)
    assert next(steps)[1] == at(2026, 12, 29, 15)


def test_immediate_every_30_minutes_until_acknowledged(session: Session) -> None:
    start = at(2026, 12, 25, 20)  # bank holiday evening: immediate risk is round the clock
    ref = _raise(session, "immediate", start)
    clock = FixedClock(start + dt.timedelta(minutes=29))
    assert _sweep(session, clock) == []
    clock.advance(dt.timedelta(minutes=1))
    assert {s for _, _, s in _sweep(session, clock)} == {1}
    clock.advance(dt.timedelta(minutes=30))
    rows = _sweep(session, clock)
    assert {s for _, _, s in rows} == {2}
    delivery = session.scalars(
        select(Delivery).where(Delivery.kind == "referral_escalation")
    ).first()
    assert delivery is not None
    render = renderer_for("referral_escalation")
    assert render is not None
    message = render(session, delivery, clock.now())
    assert message is not None and ref in message.text
    p = session.get(Partnership, 1)
    assert p is not None
    acknowledge(session, p, LEAD, ref, now=clock.now())
    clock.advance(dt.timedelta(hours=3))
    assert _sweep(session, clock) == []
    assert render(session, delivery, clock.now()) is None  # acknowledged meanwhile
