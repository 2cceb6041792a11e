"""SQLAlchemy 2 typed models. Every timestamp is stored in UTC with its zone.

Referral personal and narrative fields are held only as ciphertext (``*_enc``
columns, Fernet tokens); the plaintext never reaches a column.

Annotations are evaluated as the classes are made (no ``from __future__ import
annotations``), so the mapper reads types instead of evaluating strings; only
references to classes defined further down are strings.
"""

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Role(StrEnum):
    ADMIN = "admin"
    LEAD = "lead"
    MEMBER = "member"


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class ObjectiveStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    WAIVED = "waived"


class ScheduleKind(StrEnum):
    DEADLINE = "deadline"  # a dated target the objective must meet
    MILESTONE = "milestone"  # a dated step inside an ongoing objective
    RECURRING = "recurring"  # an rrule (e.g. yearly on 31 March)
    ONGOING = "ongoing"  # no deadline: periodic progress check instead
    UNPARSED = "unparsed"  # text kept verbatim, flagged for a person to date


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class Partnership(Base):
    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    partnership_channel: Mapped[str | None] = mapped_column(String(64))
    safeguarding_channel: Mapped[str | None] = mapped_column(String(64))
    plan_year: Mapped[int] = mapped_column(Integer)
    # Reminder policy and other per-partnership settings (see bot.time.policy).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    referral_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]

    objectives: Mapped[list["Objective"]] = relationship(
        back_populates="partnership", order_by="Objective.position"
    )


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("partnership_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # When display_name was last read from Slack (users.info); None: never.
    display_name_at: Mapped[dt.datetime | None]
    agency: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(16), default=Role.MEMBER)
    # A safeguarding lead whatever their role (an admin can be a lead too).
    safeguarding_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class Objective(Base):
    """One objective (theme, priority) of a plan year, with its ordered actions.

    An action's own fields (text, timescale, RAG, status, needs dating) live
    on :class:`Action`. The same columns here are the objective's roll-up of its
    actions, kept by ``bot.plan.actions.roll_up`` in the same transaction as any
    change to an action: with one action they are that action's (the seed's case);
    with several the texts are joined, the RAG is the worst open action's and the
    objective is done when every action is. ``owners``, ``schedule`` and
    ``progress`` are all its actions' rows (read here, written through the action).
    A snooze (``snoozed_until``) silences the whole objective's notices.
    """

    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("partnership_id", "plan_year", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    plan_year: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    action_text: Mapped[str] = mapped_column(Text, default="")
    timescale_text: Mapped[str] = mapped_column(Text, default="")
    statutory_basis: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ObjectiveStatus] = mapped_column(String(16), default=ObjectiveStatus.OPEN)
    rag: Mapped[Rag | None] = mapped_column(String(8))
    needs_dating: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[dt.datetime | None]
    imported_progress: Mapped[str | None] = mapped_column(Text)
    # Cells of plan-file columns the bot does not use, by heading, exported back.
    file_columns: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    partnership: Mapped[Partnership] = relationship(back_populates="objectives")
    actions: Mapped[list["Action"]] = relationship(
        back_populates="objective", cascade="all, delete-orphan", order_by="Action.position"
    )
    progress: Mapped[list["ProgressEntry"]] = relationship(
        back_populates="objective", order_by="ProgressEntry.id"
    )
    meetings: Mapped[list["Meeting"]] = relationship(
        back_populates="objective", order_by="Meeting.month"
    )

    @property
    def owners(self) -> tuple["ObjectiveOwner", ...]:
        """Every action's owners, in action order (a person may own several)."""
        return tuple(owner for action in self.actions for owner in action.owners)

    @property
    def schedule(self) -> tuple["ScheduleItem", ...]:
        """Every action's schedule items, in action order."""
        return tuple(item for action in self.actions for item in action.schedule)


class Action(Base):
    """One action of an objective: what is to be done, by whom, by when, and how it goes.

    ``position`` is its number within the objective as people say it ("PREVENT 2"),
    from 1. Owners, schedule items and progress entries belong to an action and carry
    its objective's id too (the objective's roll-up reads them by it).
    """

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objective.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    timescale_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ObjectiveStatus] = mapped_column(String(16), default=ObjectiveStatus.OPEN)
    rag: Mapped[Rag | None] = mapped_column(String(8))
    needs_dating: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_progress: Mapped[str | None] = mapped_column(Text)
    # Cells of plan-file columns the bot does not use, by heading, on this action's row.
    file_columns: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    objective: Mapped[Objective] = relationship(back_populates="actions")
    owners: Mapped[list["ObjectiveOwner"]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ObjectiveOwner.id"
    )
    schedule: Mapped[list["ScheduleItem"]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ScheduleItem.position"
    )
    progress: Mapped[list["ProgressEntry"]] = relationship(
        back_populates="action", order_by="ProgressEntry.id"
    )


class ObjectiveOwner(Base):
    """An owner of an action: a Slack user (``slack_user_id``) or, until linked, a name
    from a file (the lead as written)."""

    __tablename__ = "objective_owner"
    __table_args__ = (UniqueConstraint("action_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))

    action: Mapped[Action] = relationship(back_populates="owners")


class ScheduleItem(Base):
    __tablename__ = "schedule_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[ScheduleKind] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    month_only: Mapped[bool] = mapped_column(Boolean, default=False)
    rrule: Mapped[str | None] = mapped_column(Text)
    source_text: Mapped[str] = mapped_column(Text, default="")
    # A dated item is met when progress marks it done (see bot.plan.progress.log_progress).
    done_at: Mapped[dt.datetime | None]
    # The local day the item was made: a recurring rule has no occurrence before it.
    created_on: Mapped[dt.date | None] = mapped_column(Date)

    action: Mapped[Action] = relationship(back_populates="schedule")


class Meeting(Base):
    """One meeting of a body. Known first by its month; an admin sets date, time, place."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("partnership_id", "body", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objective.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(String(200))
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month it is programmed for
    meeting_date: Mapped[dt.date | None] = mapped_column(Date)
    start_time: Mapped[dt.time | None] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(300))
    papers_due: Mapped[dt.date | None] = mapped_column(Date)

    objective: Mapped[Objective | None] = relationship(back_populates="meetings")


class ProgressEntry(Base):
    """Append-only: entries are never updated or deleted."""

    __tablename__ = "progress_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objective.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    rag: Mapped[Rag | None] = mapped_column(String(8))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    # The hashed key of the request that wrote it (see bot.plan.progress): a repeated
    # request finds it and is answered without a second entry. None before 0002.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    objective: Mapped[Objective] = relationship(back_populates="progress")
    action: Mapped[Action] = relationship(back_populates="progress")


class Delivery(Base):
    """Outbox row: one per (target, kind, occurrence), unique by ``key``."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[dt.datetime]  # the instant this notice is meant for
    objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objective.id", ondelete="SET NULL")
    )
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id", ondelete="SET NULL"))
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(500))
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    # Non-sensitive rendering inputs only; never referral contents.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class Referral(Base):
    __tablename__ = "referral"
    # References (SG-2026-0007) count per partnership per year.
    __table_args__ = (UniqueConstraint("partnership_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(32))
    # Idempotency: one submission (Slack view id + hash) makes one referral.
    submission_key: Mapped[str] = mapped_column(String(128), unique=True)
    subject_group: Mapped[str] = mapped_column(String(8))  # child | adult
    category: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="open")
    referrer_slack_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    assigned_to: Mapped[str | None] = mapped_column(String(32))
    referred_on_to: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]
    alert_channel: Mapped[str | None] = mapped_column(String(64))
    alert_ts: Mapped[str | None] = mapped_column(String(32))
    # Ciphertext only (Fernet tokens of a JSON document per field group).
    subject_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    concern_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    referrer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    actions_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    outcome_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class ReferralNote(Base):
    __tablename__ = "referral_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    author_slack_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditRecord(Base):
    """Append-only, HMAC-chained: who did what to which referral, never the contents."""

    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    referral_reference: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500), default="")
    # Unique: two records can never chain onto the same predecessor (no forks).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "hmac" (keyed with the audit key) or "sha256" (written before the chain was keyed).
    hash_scheme: Mapped[str] = mapped_column(String(8), default="hmac", server_default="sha256")


class SweepGate(Base):
    """What the last full calendar plan saw, so any process may skip an unneeded one.

    ``fingerprint`` digests the plan tables the calendar-driven sources read;
    ``planned_at`` is the sweep instant of that plan. A sweep may skip calendar
    planning only while the fingerprint is unchanged and no send time has passed since.
    """

    __tablename__ = "sweep_gate"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    planned_at: Mapped[dt.datetime]


@event.listens_for(ObjectiveOwner, "before_insert")
@event.listens_for(ScheduleItem, "before_insert")
def _objective_of_action(
    mapper: Any, connection: Any, target: ObjectiveOwner | ScheduleItem
) -> None:
    """An owner or schedule item added to an action carries its objective's id too."""
    if target.objective_id is None:
        target.objective_id = target.action.objective_id
