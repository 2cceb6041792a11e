"""Two leads act on one referral at the same moment: each change happens once.

Two sessions are interleaved deterministically: both read the referral (as two
concurrent clicks do, before either writes), then both write. pysqlite opens no
transaction for reads and PostgreSQL reads committed data, so both reads see the old
state; only the store's compare-and-set can decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan.members import Actor
from bot.referrals import crypto
from bot.referrals.kinds import ASSIGNED_KIND, STATUS_KIND
from bot.referrals.records import create_referral
from bot.referrals.workflow import acknowledge, assign, close
from bot.slack.referral_lead import confirmation_text
from store.db import make_engine
from store.models import AuditRecord, Base, Delivery, Member, Partnership, Referral, Role
from tests.handlers.referrals.test_refer import KEY, LEAD, MEMBER, NOW, form, partnership

LEAD2 = Actor("ULEAD2", Role.LEAD, "Lead two")


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Session, Session, str]]:
    crypto.configure([KEY])
    engine = make_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as setup:
        p = partnership(setup)
        setup.add(
            Member(partnership_id=p.id, slack_user_id="ULEAD2", role=Role.LEAD, created_at=NOW)
        )
        ref = create_referral(setup, p, MEMBER, form(), submission_key="k", now=NOW)
        setup.commit()
        reference = ref.reference
    with Session(engine) as a, Session(engine) as b:
        # Both clicks read the referral before either writes (held, so each session
        # keeps what it read, as a request in progress does).
        held = [s.scalars(select(Referral)).one() for s in (a, b)]
        assert all(r.acknowledged_at is None for r in held)
        yield a, b, reference
        del held
    engine.dispose()


def _p(s: Session) -> Partnership:
    return s.scalars(select(Partnership)).one()


def _count(s: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_double_acknowledge_tells_the_referrer_and_audits_once(
    two: tuple[Session, Session, str],
) -> None:
    a, b, reference = two
    first = acknowledge(a, _p(a), LEAD, reference, now=NOW)
    a.commit()
    later = NOW + dt.timedelta(seconds=1)
    second = acknowledge(b, _p(b), LEAD2, reference, now=later)
    b.commit()
    assert first.changed and not second.changed
    assert second.notices == ()
    text = confirmation_text(second)
    assert "already acknowledged by <@ULEAD>" in text and "at 10:00" in text
    assert _count(a, Delivery, Delivery.kind == STATUS_KIND) == 1
    assert _count(a, AuditRecord, AuditRecord.action == "acknowledge") == 1
    key = a.scalars(select(Delivery.key).where(Delivery.kind == STATUS_KIND)).one()
    assert key.endswith(":acknowledged") and key.count(":") == 2
    row = a.scalars(select(Referral)).one()
    a.refresh(row)
    assert row.acknowledged_by == "ULEAD"


def test_double_assign_to_the_same_lead_notifies_once(
    two: tuple[Session, Session, str],
) -> None:
    a, b, reference = two
    first = assign(a, _p(a), LEAD, reference, LEAD2, now=NOW)
    a.commit()
    second = assign(b, _p(b), LEAD, reference, LEAD2, now=NOW)
    b.commit()
    assert first.changed and not second.changed and second.notices == ()
    assert _count(a, Delivery, Delivery.kind == ASSIGNED_KIND) == 1
    assert _count(a, AuditRecord, AuditRecord.action == "assign") == 1
    assert _count(a, AuditRecord, AuditRecord.action == "acknowledge") <= 1


def test_double_close_closes_once(two: tuple[Session, Session, str]) -> None:
    a, b, reference = two
    close(a, _p(a), LEAD, reference, "Outcome one", now=NOW)
    a.commit()
    with pytest.raises(UserError, match="is closed"):
        close(b, _p(b), LEAD2, reference, "Outcome two", now=NOW)
    b.rollback()
    assert _count(a, AuditRecord, AuditRecord.action == "close") == 1
    keys = list(a.scalars(select(Delivery.key).where(Delivery.kind == STATUS_KIND)))
    assert sum(k.endswith(":closed") for k in keys) == 1
