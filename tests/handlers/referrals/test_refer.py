from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError
from bot.plan.members import Actor
from bot.referrals import audit, crypto, reading
from bot.referrals.access import NotALead
from bot.referrals.counts import referral_counts
from bot.referrals.form import ReferralForm
from bot.referrals.reading import export_referral, list_open
from bot.referrals.records import create_referral
from bot.referrals.retention import purge_expired
from bot.referrals.vocabulary import ReferOn
from bot.referrals.workflow import acknowledge, add_note, assign, close, refer_on
from store.db import make_engine
from store.models import AuditRecord, Base, Delivery, Member, Partnership, Referral, Role

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
KEY = crypto.generate_key()
LEAD = Actor("ULEAD", Role.LEAD, "Lead")
ADMIN = Actor("UADMIN", Role.ADMIN, "Admin")
MEMBER = Actor("UMEMBER", Role.MEMBER, "Member")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    crypto.configure([KEY])
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def partnership(session: Session, name: str = "P1") -> Partnership:
    p = Partnership(
        name=name,
        plan_year=2026,
        settings={},
        referral_seq=0,
        created_at=NOW,
        safeguarding_channel="C0SAFE",
    )
    session.add(p)
    session.flush()
    for actor in (LEAD, ADMIN, MEMBER):
        session.add(
            Member(
                partnership_id=p.id,
                slack_user_id=actor.slack_user_id,
                role=actor.role,
                created_at=NOW,
            )
        )
    session.flush()
    return p


def form(**kw: str) -> ReferralForm:
    data = {
        "subject_group": "child",
        "category": "fgm",
        "urgency": "routine",
        "subject_name": "Marker Person",
        "what_happened": "Something worrying",
        "how_known": "Told",
        "referrer_role": "Nurse",
        "referrer_agency": "ICB",
        "referrer_contact": "x@example.org",
        "consent": "given",
    }
    data.update(kw)
    return ReferralForm.model_validate(data)


def test_create_is_idempotent_and_numbered_per_year(session: Session) -> None:
    p = partnership(session)
    first = create_referral(session, p, MEMBER, form(), submission_key="V1:h", now=NOW)
    again = create_referral(session, p, MEMBER, form(), submission_key="V1:h", now=NOW)
    second = create_referral(session, p, MEMBER, form(), submission_key="V2:h", now=NOW)
    assert first.created and not again.created
    assert first.reference == again.reference == "SG-2026-0001"
    assert second.reference == "SG-2026-0002"
    assert any("101" in t for t in first.prompts)
    next_year = NOW.replace(year=2027, month=1, day=2)
    third = create_referral(session, p, MEMBER, form(), submission_key="V3:h", now=next_year)
    assert third.reference == "SG-2027-0001"
    assert session.scalar(select(Referral).where(Referral.reference == "SG-2026-0001")) is not None
    alerts = session.scalars(select(Delivery).where(Delivery.kind == "referral_alert")).all()
    assert len(alerts) == 3
    assert all(set(a.payload) == {"reference", "category", "urgency", "group"} for a in alerts)


def test_non_lead_cannot_view_ack_list_or_export_and_is_audited(session: Session) -> None:
    p = partnership(session)
    ref = create_referral(session, p, MEMBER, form(), submission_key="k", now=NOW)
    calls: list[Callable[[], object]] = [
        lambda: reading.view(session, p, MEMBER, ref.reference, now=NOW),
        lambda: acknowledge(session, p, MEMBER, ref.reference, now=NOW),
        lambda: list_open(session, p, MEMBER, now=NOW),
        lambda: export_referral(session, p, MEMBER, ref.reference, now=NOW),
        lambda: reading.view(session, p, ADMIN, ref.reference, now=NOW),
    ]
    for call in calls:
        with pytest.raises(NotALead, match="not a safeguarding lead"):
            call()
    actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions == [
        "create",
        "denied_view",
        "denied_acknowledge",
        "denied_list",
        "denied_export",
        "denied_view",
    ]
    # Admins may export (subject access requests), and it is audited.
    exported = export_referral(session, p, ADMIN, ref.reference, now=NOW)
    assert exported["subject"]["name"] == "Marker Person"
    assert audit.verify_chain(session).ok


def test_lead_of_one_partnership_cannot_see_another(session: Session) -> None:
    p1 = partnership(session, "P1")
    p2 = partnership(session, "P2")
    r1 = create_referral(session, p1, MEMBER, form(), submission_key="a", now=NOW)
    r2 = create_referral(session, p2, MEMBER, form(), submission_key="b", now=NOW)
    assert r1.reference == r2.reference == "SG-2026-0001"
    detail = reading.view(session, p2, LEAD, r2.reference, now=NOW)
    assert detail.summary.id == r2.summary.id
    assert [s.id for s in list_open(session, p2, LEAD, now=NOW)] == [r2.summary.id]
    with pytest.raises(NotFound):
        acknowledge(session, p1, LEAD, "SG-2026-0009", now=NOW)


def test_workflow_notes_close_counts_and_purge(session: Session) -> None:
    p = partnership(session)
    ref = create_referral(session, p, MEMBER, form(), submission_key="k", now=NOW)
    r = ref.reference
    assert acknowledge(session, p, LEAD, r, now=NOW).changed
    assert not acknowledge(session, p, LEAD, r, now=NOW).changed
    assert assign(session, p, LEAD, r, LEAD, now=NOW).summary.assigned_to == "ULEAD"
    with pytest.raises(UserError, match="not a safeguarding lead"):
        assign(session, p, LEAD, r, MEMBER, now=NOW)
    refer_on(session, p, LEAD, r, ReferOn.POLICE, now=NOW)
    add_note(session, p, LEAD, r, "Note with Marker", now=NOW)
    counts = referral_counts(session, p, NOW + dt.timedelta(days=1))
    assert (counts.opened, counts.acknowledged, counts.open_total) == (1, 1, 1)
    close(session, p, LEAD, r, "Outcome text", now=NOW)
    detail = reading.view(session, p, LEAD, r, now=NOW)
    assert detail.notes[0].text == "Note with Marker"
    assert detail.outcome == {"text": "Outcome text", "by": "ULEAD"}
    assert purge_expired(session, p, NOW + dt.timedelta(days=365 * 6 - 5)) == 0
    p.settings = {"retention_years": {"default": 6, "fgm": 1}}
    assert purge_expired(session, p, NOW + dt.timedelta(days=366)) == 1
    row = session.scalars(select(Referral)).one()
    assert row.subject_enc is None and row.concern_enc is None and row.purged_at is not None
    assert (row.category, row.urgency) == ("fgm", "routine")
    with pytest.raises(UserError, match="retention"):
        reading.view(session, p, LEAD, r, now=NOW)
    actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions[-2:] == ["view", "purge"] or "purge" in actions
    assert audit.verify_chain(session).ok


def test_counts_past_deadline(session: Session) -> None:
    p = partnership(session)
    create_referral(session, p, MEMBER, form(urgency="immediate"), submission_key="k", now=NOW)
    assert referral_counts(session, p, NOW).awaiting_past_deadline == 0
    later = NOW + dt.timedelta(minutes=31)
    assert referral_counts(session, p, later).awaiting_past_deadline == 1
