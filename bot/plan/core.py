"""The action plan: partnership, members and roles, objectives, schedules, progress.

Functions here take a session and flush; the caller's session scope commits.
Read models are frozen dataclasses so handlers and builders never touch ORM objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.errors import NotAllowed, NotFound, UserError
from bot.plan import readcache
from bot.settings import Settings
from bot.text.matching import match_body
from bot.time.policy import ReminderPolicy, first_notice_day
from bot.time.workdays import default_calendar
from store.models import (
    Meeting,
    Member,
    Objective,
    ObjectiveOwner,
    ObjectiveStatus,
    Partnership,
    ProgressEntry,
    Rag,
    Role,
    ScheduleItem,
    ScheduleKind,
)

DATED_KINDS = (ScheduleKind.DEADLINE, ScheduleKind.MILESTONE)
T = TypeVar("T")


def current_plan_year(today: dt.date) -> int:
    """UK public-sector plan years run April to March."""
    return today.year if today.month >= 4 else today.year - 1


def plan_year_label(year: int) -> str:
    """How a plan year is named everywhere: 2026 -> "2026/27"."""
    return f"{year}/{(year + 1) % 100:02d}"


def local_today(partnership: Partnership, now: dt.datetime) -> dt.date:
    return local_date(now, partnership.timezone)


DEFAULT_ZONE = "Europe/London"


def local_date(at: dt.datetime, zone: ZoneInfo | str) -> dt.date:
    """The calendar day ``at`` falls on in ``zone`` (the partnership's zone): 23:30 UTC
    on a summer-time date is already the next day in London. A naive ``at`` is taken
    as UTC, as the database stores it."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).date()


# --------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Actor:
    slack_user_id: str
    role: Role
    display_name: str | None
    bootstrap_admin: bool = False
    bootstrap_lead: bool = False
    safeguarding_lead: bool = False  # the member's stored lead flag

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.bootstrap_admin

    @property
    def is_lead(self) -> bool:
        """Safeguarding lead. Admins are not leads unless named as one."""
        return self.safeguarding_lead or self.role == Role.LEAD or self.bootstrap_lead

    @property
    def mention(self) -> str:
        return f"<@{self.slack_user_id}>"


def ensure_partnership(session: Session, settings: Settings, *, now: dt.datetime) -> Partnership:
    """The partnership this process serves, created from settings on first use.

    Channels and zone follow the settings on every start; `CSP_ADMINS` and
    `CSP_SAFEGUARDING_LEADS` are recorded as members: admins with the admin role, leads
    with the safeguarding-lead flag (and the lead role unless they are admins), so someone
    in both lists is stored as both.
    """
    partnership = session.scalars(
        select(Partnership).where(Partnership.name == settings.partnership_name)
    ).one_or_none()
    if partnership is None:
        partnership = Partnership(
            name=settings.partnership_name,
            timezone=settings.timezone,
            plan_year=current_plan_year(local_date(now, settings.zone)),
            settings={},
            referral_seq=0,
            created_at=now,
        )
        session.add(partnership)
    partnership.timezone = settings.timezone
    partnership.partnership_channel = settings.partnership_channel
    partnership.safeguarding_channel = settings.safeguarding_channel
    session.flush()
    for user_id in settings.admins:
        _ensure_member(session, partnership, user_id, now=now, role=Role.ADMIN)
    for user_id in settings.safeguarding_leads:
        role = None if user_id in settings.admins else Role.LEAD
        member = _ensure_member(session, partnership, user_id, now=now, role=role)
        if not member.safeguarding_lead:
            member.safeguarding_lead = True
    return partnership


def _ensure_member(
    session: Session,
    partnership: Partnership,
    slack_user_id: str,
    *,
    now: dt.datetime,
    role: Role | None = None,
    display_name: str | None = None,
) -> Member:
    member = session.scalars(
        select(Member).where(
            Member.partnership_id == partnership.id, Member.slack_user_id == slack_user_id
        )
    ).one_or_none()
    if member is None:
        member = Member(
            partnership_id=partnership.id,
            slack_user_id=slack_user_id,
            role=role or Role.MEMBER,
            display_name=display_name,
            created_at=now,
        )
        try:
            # Two first requests from one person can race: the loser uses the winner's row.
            with session.begin_nested():
                session.add(member)
        except IntegrityError:
            member = session.scalars(
                select(Member).where(
                    Member.partnership_id == partnership.id,
                    Member.slack_user_id == slack_user_id,
                )
            ).one()
        else:
            return member
    if role is not None and member.role != role and role != Role.MEMBER:
        member.role = role
    if display_name and member.display_name != display_name:
        member.display_name = display_name
    return member


def resolve_actor(
    session: Session,
    partnership: Partnership,
    slack_user_id: str,
    *,
    now: dt.datetime,
    display_name: str | None = None,
    settings: Settings | None = None,
) -> Actor:
    member = _ensure_member(session, partnership, slack_user_id, now=now, display_name=display_name)
    return Actor(
        slack_user_id=slack_user_id,
        role=Role(member.role),
        display_name=member.display_name,
        bootstrap_admin=settings is not None and slack_user_id in settings.admins,
        bootstrap_lead=settings is not None and slack_user_id in settings.safeguarding_leads,
        safeguarding_lead=bool(member.safeguarding_lead),
    )


@dataclass(frozen=True)
class RoleChange:
    """What `/csp role` did: the person's role and lead flag now (before the settings
    lists, which win over both)."""

    slack_user_id: str
    asked: Role
    role: Role
    safeguarding_lead: bool

    @property
    def can_do(self) -> str:
        """In plain words, what the person can now do."""
        admin = self.role == Role.ADMIN
        if admin and self.safeguarding_lead:
            return (
                "they can manage the plan, owners, roles and meetings, and as a safeguarding "
                "lead they still see and handle safeguarding referrals"
            )
        if admin:
            return "they can manage the plan, owners, roles and meetings"
        if self.safeguarding_lead:
            return "they will see and handle safeguarding referrals"
        return "they can log progress and see the plan; they no longer manage roles or referrals"

    @property
    def text(self) -> str:
        """The reply to `/csp role`, e.g. "<@U1> is now an admin and still a
        safeguarding lead: ..."."""
        who = f"<@{self.slack_user_id}>"
        admin = self.role == Role.ADMIN
        if self.asked == Role.LEAD and admin:
            now = "is now a safeguarding lead and still an admin"
        elif self.asked == Role.ADMIN and self.safeguarding_lead:
            now = "is now an admin and still a safeguarding lead"
        elif admin:
            now = "is now an admin"
        elif self.safeguarding_lead:
            now = "is now a safeguarding lead"
        else:
            now = "is now a member"
        return f"{who} {now}: {self.can_do}."


def set_role(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    slack_user_id: str,
    role: Role,
    *,
    bootstrap_admins: Collection[str] = (),
) -> RoleChange:
    """Change someone's role. ``lead`` sets the safeguarding-lead flag and keeps an admin
    an admin; ``admin`` keeps the flag (a lead made admin is still a lead); ``member``
    clears both. Refuses to leave the partnership with no admin: the last admin
    (counting those listed in CSP_ADMINS, ``bootstrap_admins``) cannot be demoted."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can change roles. Ask an admin to run "
            f"`/csp role <@{slack_user_id}> {role.value}`."
        )
    member = _ensure_member(session, partnership, slack_user_id, now=_now_of(session))
    was_admin = member.role == Role.ADMIN
    if role == Role.MEMBER and was_admin and slack_user_id not in bootstrap_admins:
        others = set(members_with_role(session, partnership, Role.ADMIN)) | set(bootstrap_admins)
        others.discard(slack_user_id)
        if not others:
            raise UserError(
                f"<@{slack_user_id}> is the partnership's only admin, so I have kept them as "
                "admin: someone has to be able to manage the plan and roles. Make someone "
                "else an admin first with `/csp role @person admin`, then try again."
            )
    lead = bool(member.safeguarding_lead) or member.role == Role.LEAD
    if role == Role.LEAD:
        member.safeguarding_lead = True
        if not was_admin:
            member.role = Role.LEAD
    elif role == Role.ADMIN:
        member.role = Role.ADMIN
        member.safeguarding_lead = lead
    else:
        member.role = Role.MEMBER
        member.safeguarding_lead = False
    session.flush()
    return RoleChange(
        slack_user_id=slack_user_id,
        asked=role,
        role=Role(member.role),
        safeguarding_lead=bool(member.safeguarding_lead),
    )


def members_with_role(
    session: Session, partnership: Partnership, role: Role, extra: Iterable[str] = ()
) -> list[str]:
    """Slack IDs of members holding ``role``, oldest first, then any of ``extra`` (such as
    the bootstrap IDs from settings) not already listed. For ``Role.LEAD`` that is everyone
    who is a safeguarding lead: the lead role or the flag (an admin can be a lead too)."""
    held = Member.role == role
    if role == Role.LEAD:
        held = or_(held, Member.safeguarding_lead.is_(True))
    found = list(
        session.scalars(
            select(Member.slack_user_id)
            .where(Member.partnership_id == partnership.id, held)
            .order_by(Member.id)
        )
    )
    found.extend(user for user in dict.fromkeys(extra) if user and user not in found)
    return found


def _now_of(session: Session) -> dt.datetime:
    clock = session.info.get("clock")
    if clock is not None:
        now: dt.datetime = clock.now()
        return now
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True)
class ObjectiveSummary:
    id: int
    title: str
    owners: tuple[str, ...]
    owner_ids: tuple[str, ...]
    rag: str | None
    status: str
    next_date: dt.date | None
    next_label: str | None
    overdue: bool
    overdue_since: dt.date | None
    needs_dating: bool
    ongoing: bool
    timescale_text: str
    last_progress_at: dt.datetime | None
    # The next thing is known only to the month (an undated meeting, a month-only
    # deadline): show next_label alone, with no made-up day and no "in N days".
    next_month_only: bool = False


@dataclass(frozen=True)
class ScheduleLine:
    kind: str
    due_on: dt.date | None
    body: str | None
    label: str
    rrule: str | None
    done: bool = False


@dataclass(frozen=True)
class ProgressView:
    at: dt.datetime
    author: str
    slack_user_id: str | None
    rag: str | None
    done: bool
    note: str
    as_of: dt.date | None
    evidence_url: str | None


@dataclass(frozen=True)
class ObjectiveDetail:
    summary: ObjectiveSummary
    action_text: str
    statutory_basis: str | None
    schedule: tuple[ScheduleLine, ...]
    recent_progress: tuple[ProgressView, ...]


@dataclass(frozen=True)
class DueItem:
    objective_id: int
    title: str
    due_on: dt.date
    label: str
    body: str | None
    overdue: bool
    owner_ids: tuple[str, ...]
    kind: str
    month_only: bool = False  # known only to the month: show the label, not a day
    # Overdue but snoozed: notices are silenced until then; it is still overdue.
    snoozed_until: dt.datetime | None = None


@dataclass(frozen=True)
class MeetingView:
    id: int
    body: str
    month: dt.date
    meeting_date: dt.date | None
    start_time: dt.time | None
    place: str | None
    papers_due: dt.date | None
    moved_from: str | None = None  # set_meeting: "December 2026 (date to be set)" when moved

    @property
    def date_to_be_set(self) -> bool:
        return self.meeting_date is None

    @property
    def sort_date(self) -> dt.date:
        return self.meeting_date or self.month


class ItemLike(Protocol):
    """A schedule item: the ORM row or its read-model snapshot."""

    @property
    def kind(self) -> str: ...
    @property
    def due_on(self) -> dt.date | None: ...
    @property
    def body(self) -> str | None: ...
    @property
    def month_only(self) -> bool: ...
    @property
    def rrule(self) -> str | None: ...
    @property
    def source_text(self) -> str: ...
    @property
    def done_at(self) -> dt.datetime | None: ...


class OwnerLike(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def slack_user_id(self) -> str | None: ...


class MeetingLike(Protocol):
    @property
    def body(self) -> str: ...
    @property
    def month(self) -> dt.date: ...
    @property
    def meeting_date(self) -> dt.date | None: ...


class ObjectiveLike(Protocol):
    """An objective with its owners, schedule and linked meetings (ORM or snapshot)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def rag(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def needs_dating(self) -> bool: ...
    @property
    def timescale_text(self) -> str: ...
    @property
    def owners(self) -> Sequence[OwnerLike]: ...
    @property
    def schedule(self) -> Sequence[ItemLike]: ...
    @property
    def meetings(self) -> Sequence[MeetingLike]: ...


def month_label(day: dt.date) -> str:
    return day.strftime("%B %Y")


def item_label(item: ItemLike) -> str:
    if item.kind == ScheduleKind.RECURRING:
        return item.source_text or "recurring"
    if item.kind == ScheduleKind.ONGOING:
        return "ongoing"
    if item.kind == ScheduleKind.UNPARSED:
        return f"needs a date: {item.source_text}"
    if item.due_on is None:
        return item.source_text
    text = month_label(item.due_on) if item.month_only else item.due_on.strftime("%-d %B %Y")
    return f"{text} ({item.body})" if item.body else text


@lru_cache(maxsize=4096)
def _parsed_rule(rule: str, dtstart: dt.date) -> rrule:
    parsed = rrulestr(rule, dtstart=dt.datetime.combine(dtstart, dt.time()))
    if not isinstance(parsed, rrule):
        raise ValueError(f"expected a single recurrence rule, got {rule!r}")
    return parsed


def next_occurrence(rule: str, dtstart: dt.date, on_or_after: dt.date) -> dt.date | None:
    parsed = _parsed_rule(rule, dtstart)
    hit = parsed.after(dt.datetime.combine(on_or_after, dt.time()), inc=True)
    return hit.date() if hit is not None else None


def current_objectives_query(
    partnership: Partnership, *, with_progress: bool = False
) -> Select[Objective]:
    """The current plan year's objectives in plan order, with owners, schedule and
    meetings loaded (and progress, when asked)."""
    loads = [
        selectinload(Objective.owners),
        selectinload(Objective.schedule),
        selectinload(Objective.meetings),
    ]
    if with_progress:
        loads.append(selectinload(Objective.progress))
    return (
        select(Objective)
        .where(
            Objective.partnership_id == partnership.id,
            Objective.plan_year == partnership.plan_year,
        )
        .order_by(Objective.position, Objective.id)
        .options(*loads)
    )


def _current_objectives(session: Session, partnership: Partnership) -> list[Objective]:
    return list(session.scalars(current_objectives_query(partnership)))


def _last_progress(session: Session, objective_ids: Iterable[int]) -> dict[int, dt.datetime]:
    ids = list(objective_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ProgressEntry.objective_id, func.max(ProgressEntry.created_at))
        .where(ProgressEntry.objective_id.in_(ids))
        .group_by(ProgressEntry.objective_id)
    ).all()
    result: dict[int, dt.datetime] = {}
    for objective_id, at in rows:
        if at is not None:
            result[objective_id] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return result


def upcoming_dates(objective: ObjectiveLike, today: dt.date) -> list[tuple[dt.date, str]]:
    """Every dated thing from today on for one objective, soonest first."""
    return [(when, label) for when, label, _ in upcoming_items(objective, today)]


def upcoming_items(objective: ObjectiveLike, today: dt.date) -> list[tuple[dt.date, str, bool]]:
    """Like :func:`upcoming_dates`, with a third value: True when the thing is known
    only to the month (an undated meeting, a month-only deadline), so its date is a
    sort key, not a day to show."""
    found: list[tuple[dt.date, str, bool]] = []
    for item in objective.schedule:
        if item.kind in DATED_KINDS and item.due_on is not None and item.done_at is None:
            if item.due_on >= today:
                found.append((item.due_on, item_label(item), item.month_only))
        elif item.kind == ScheduleKind.RECURRING and item.rrule and item.due_on is not None:
            hit = next_occurrence(item.rrule, item.due_on, today)
            if hit is not None and item.month_only:
                # "every March": due on the month's last working day.
                hit = default_calendar().on_or_before(hit)
            if hit is not None:
                found.append((hit, item.source_text or "recurring", False))
    for meeting in objective.meetings:
        when = meeting.meeting_date or meeting.month
        if (meeting.meeting_date or _month_end(meeting.month)) >= today:
            label = (
                f"{meeting.body} meeting {meeting.meeting_date.strftime('%-d %B %Y')}"
                if meeting.meeting_date
                else f"{meeting.body} meeting, {month_label(meeting.month)} (date to be set)"
            )
            found.append((when, label, meeting.meeting_date is None))
    found.sort(key=lambda entry: entry[0])
    return found


def _month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


# --------------------------------------------------------------------------- overdue
#
# The one definition of "overdue", used by every view (`/csp due`, the plan list, App
# Home, the weekly digest) and by the reminder engine's weekly overdue notices:
#
# * a dated deadline or milestone is overdue from the day after its date until it is
#   marked done (its ``done_at``) or the objective is closed or waived;
# * an occurrence of a recurring item ("31 March annually") is overdue from the day
#   after it until a "done" progress entry meets it, or until the next occurrence's
#   first reminder begins (from then on the next occurrence is what people are asked
#   about). Each "done" entry meets one occurrence: the earliest one not yet met that
#   falls due no more than 60 days after it (early returns count, and a late "done"
#   closes the late occurrence first, as ``done`` closes the earliest dated item);
# * meetings, ongoing work and undated items are never overdue.
#
# A snooze only silences notices: a snoozed item is still overdue in every view.

RECURRING_DONE_WINDOW = dt.timedelta(days=60)


@dataclass(frozen=True)
class OverdueItem:
    """One overdue occurrence of a dated or recurring schedule item."""

    due_on: dt.date
    kind: str
    label: str
    body: str | None
    month_only: bool
    recurring: bool
    source_text: str
    # Recurring occurrences stop being overdue on this local day (the next occurrence's
    # first reminder); None for dated items, which stay overdue until done.
    until: dt.date | None = None


def recurring_dates(item: ItemLike, up_to: dt.date) -> list[dt.date]:
    """Every occurrence of a recurring item from its start to ``up_to``, soonest first
    ("every March" items fall on the month's last working day)."""
    if item.kind != ScheduleKind.RECURRING or not item.rrule or item.due_on is None:
        return []
    rule = _parsed_rule(item.rrule, item.due_on)
    start = dt.datetime.combine(item.due_on, dt.time())
    end = dt.datetime.combine(up_to, dt.time())
    dates = [d.date() for d in rule.between(start, end, inc=True)]
    if item.month_only:
        cal = default_calendar()
        dates = [cal.on_or_before(d) for d in dates]
    return dates


def met_occurrences(dates: Sequence[dt.date], done_days: Iterable[dt.date]) -> set[dt.date]:
    """The occurrences in ``dates`` that "done" entries (local days) meet: each entry
    meets the earliest occurrence not yet met that is due no more than 60 days after it."""
    open_dates = sorted(dates)
    met: set[dt.date] = set()
    for done in sorted(done_days):
        for due in open_dates:
            if due in met:
                continue
            if due - RECURRING_DONE_WINDOW <= done:
                met.add(due)
            break
    return met


def overdue_items(
    objective: ObjectiveLike,
    today: dt.date,
    done_days: Iterable[dt.date] = (),
    policy: ReminderPolicy | None = None,
) -> list[OverdueItem]:
    """What is overdue for ``objective`` on local day ``today``, oldest first.

    ``done_days`` are the local days of its "done" progress entries (they meet recurring
    occurrences); ``policy`` says when the next occurrence's first reminder begins.
    """
    if objective.status != ObjectiveStatus.OPEN:
        return []
    policy = policy or ReminderPolicy()
    done_list = sorted(done_days)
    found: list[OverdueItem] = []
    for item in objective.schedule:
        if item.kind in DATED_KINDS:
            if item.due_on is not None and item.done_at is None and item.due_on < today:
                found.append(
                    OverdueItem(
                        due_on=item.due_on,
                        kind=item.kind,
                        label=item_label(item),
                        body=item.body,
                        month_only=item.month_only,
                        recurring=False,
                        source_text=item.source_text,
                    )
                )
        elif item.kind == ScheduleKind.RECURRING:
            found.extend(_overdue_occurrences(item, today, done_list, policy))
    found.sort(key=lambda o: o.due_on)
    return found


def _overdue_occurrences(
    item: ItemLike, today: dt.date, done_days: Sequence[dt.date], policy: ReminderPolicy
) -> list[OverdueItem]:
    dates = recurring_dates(item, today + dt.timedelta(days=400))
    if not dates or dates[0] >= today:
        return []
    met = met_occurrences(dates, done_days)
    cal = default_calendar()
    found: list[OverdueItem] = []
    for i, due in enumerate(dates):
        if due >= today:
            break
        until = None
        if i + 1 < len(dates):
            until = first_notice_day(dates[i + 1], policy, cal)
        if due in met or (until is not None and today >= until):
            continue
        found.append(
            OverdueItem(
                due_on=due,
                kind=item.kind,
                label=item.source_text or "recurring",
                body=item.body,
                month_only=False,
                recurring=True,
                source_text=item.source_text,
                until=until,
            )
        )
    return found


def summarise(
    objective: ObjectiveLike,
    today: dt.date,
    last_progress_at: dt.datetime | None,
    *,
    done_days: Iterable[dt.date] = (),
    policy: ReminderPolicy | None = None,
) -> ObjectiveSummary:
    upcoming = upcoming_items(objective, today)
    late = overdue_items(objective, today, done_days, policy)
    return ObjectiveSummary(
        id=objective.id,
        title=objective.title,
        owners=tuple(o.slack_user_id or o.label for o in objective.owners),
        owner_ids=tuple(o.slack_user_id for o in objective.owners if o.slack_user_id),
        rag=objective.rag,
        status=objective.status,
        next_date=upcoming[0][0] if upcoming else None,
        next_label=upcoming[0][1] if upcoming else None,
        overdue=bool(late),
        overdue_since=min((i.due_on for i in late), default=None),
        needs_dating=objective.needs_dating,
        ongoing=any(i.kind == ScheduleKind.ONGOING for i in objective.schedule),
        timescale_text=objective.timescale_text,
        last_progress_at=last_progress_at,
        next_month_only=upcoming[0][2] if upcoming else False,
    )


@dataclass(frozen=True)
class ProgressFacts:
    """What the overdue rule needs beyond the schedule: the local days of each
    objective's "done" entries, and snoozes (which only silence notices)."""

    done_days: dict[int, tuple[dt.date, ...]]
    snoozed_until: dict[int, dt.datetime]
    zone: str = DEFAULT_ZONE  # the partnership's, for the local day a snooze ends


def reminder_policy(partnership: Partnership) -> ReminderPolicy:
    """The partnership's reminder policy as far as the overdue rule needs it (a bad
    setting falls back to the defaults here; the reminder engine reports it)."""
    try:
        return ReminderPolicy.from_settings(partnership.settings)
    except ValueError:
        return ReminderPolicy()


def progress_facts(
    session: Session, partnership: Partnership, objective_ids: Iterable[int]
) -> ProgressFacts:
    ids = list(objective_ids)
    zone = ZoneInfo(partnership.timezone)
    done: dict[int, list[dt.date]] = {}
    snoozed: dict[int, dt.datetime] = {}
    if ids:
        for oid, at in session.execute(
            select(ProgressEntry.objective_id, ProgressEntry.created_at)
            .where(ProgressEntry.objective_id.in_(ids), ProgressEntry.done.is_(True))
            .order_by(ProgressEntry.created_at)
        ):
            done.setdefault(oid, []).append(local_date(at, zone))
        for oid, until in session.execute(
            select(Objective.id, Objective.snoozed_until).where(
                Objective.id.in_(ids), Objective.snoozed_until.is_not(None)
            )
        ):
            if until is not None:
                snoozed[oid] = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    return ProgressFacts({k: tuple(v) for k, v in done.items()}, snoozed, partnership.timezone)


def _summary_of(
    session: Session,
    partnership: Partnership,
    objective: Objective,
    today: dt.date,
    last_progress_at: dt.datetime | None,
) -> ObjectiveSummary:
    """:func:`summarise` for one ORM objective, with its "done" entries."""
    facts = progress_facts(session, partnership, [objective.id])
    return summarise(
        objective,
        today,
        last_progress_at,
        done_days=facts.done_days.get(objective.id, ()),
        policy=reminder_policy(partnership),
    )


def _active_snooze(facts: ProgressFacts, objective_id: int, today: dt.date) -> dt.datetime | None:
    until = facts.snoozed_until.get(objective_id)
    return until if until is not None and local_date(until, facts.zone) >= today else None


def _snapshot(session: Session, partnership: Partnership) -> readcache.PlanSnapshot:
    return readcache.plan_snapshot(session, partnership.id, partnership.plan_year)


def list_objectives(
    session: Session, partnership: Partnership, today: dt.date
) -> list[ObjectiveSummary]:
    snap = _snapshot(session, partnership)
    facts = _facts(session, partnership, snap)
    policy = reminder_policy(partnership)

    def build() -> tuple[ObjectiveSummary, ...]:
        return tuple(
            summarise(
                o,
                today,
                snap.last_progress.get(o.id),
                done_days=facts.done_days.get(o.id, ()),
                policy=policy,
            )
            for o in snap.objectives
        )

    return list(snap.memo(("summaries", today, policy), build))


def _facts(
    session: Session, partnership: Partnership, snap: readcache.PlanSnapshot
) -> ProgressFacts:
    # The snapshot's fingerprint moves with every progress entry and every snooze
    # (snooze stamps the objective), so these facts live as long as the snapshot.
    return snap.memo(
        ("progress_facts", partnership.timezone),
        lambda: progress_facts(session, partnership, (o.id for o in snap.objectives)),
    )


def plan_memo(
    session: Session, partnership: Partnership, key: Hashable, build: Callable[[], T]
) -> T:
    """A value derived only from the current plan snapshot and ``key`` (e.g. a rendered
    reply), built once per snapshot. ``build`` must read nothing the snapshot does not
    cover."""
    return _snapshot(session, partnership).memo(key, build)


def objective_choices(session: Session, partnership: Partnership) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Objective.id, Objective.title)
        .where(
            Objective.partnership_id == partnership.id,
            Objective.plan_year == partnership.plan_year,
        )
        .order_by(Objective.position, Objective.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def get_objective(session: Session, partnership: Partnership, objective_id: int) -> Objective:
    objective = session.get(Objective, objective_id)
    if objective is None or objective.partnership_id != partnership.id:
        raise NotFound("That objective no longer exists. Type `/csp plan` to see the current plan.")
    return objective


def progress_view(entry: ProgressEntry) -> ProgressView:
    return ProgressView(
        at=entry.created_at,
        author=entry.author,
        slack_user_id=entry.slack_user_id,
        rag=entry.rag,
        done=entry.done,
        note=entry.note,
        as_of=entry.as_of,
        evidence_url=entry.evidence_url,
    )


def objective_detail(
    session: Session, partnership: Partnership, objective_id: int, today: dt.date
) -> ObjectiveDetail:
    objective = get_objective(session, partnership, objective_id)
    recent = list(
        session.scalars(
            select(ProgressEntry)
            .where(ProgressEntry.objective_id == objective.id)
            .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
            .limit(5)
        )
    )
    schedule = [
        ScheduleLine(
            kind=item.kind,
            due_on=item.due_on,
            body=item.body,
            label=item_label(item),
            rrule=item.rrule,
            done=item.done_at is not None,
        )
        for item in objective.schedule
    ]
    for meeting in objective.meetings:
        schedule.append(
            ScheduleLine(
                kind="meeting",
                due_on=meeting.meeting_date,
                body=meeting.body,
                label=(
                    f"{meeting.body}: {meeting.meeting_date.strftime('%-d %B %Y')}"
                    if meeting.meeting_date
                    else f"{meeting.body}: {month_label(meeting.month)} (date to be set)"
                ),
                rrule=None,
            )
        )
    last = recent[0].created_at if recent else None
    return ObjectiveDetail(
        summary=_summary_of(session, partnership, objective, today, last),
        action_text=objective.action_text,
        statutory_basis=objective.statutory_basis,
        schedule=tuple(schedule),
        recent_progress=tuple(progress_view(e) for e in recent),
    )


def due_items(
    session: Session, partnership: Partnership, today: dt.date, days: int
) -> list[DueItem]:
    """Overdue items first (oldest first), then dated items due within ``days``."""
    snap = _snapshot(session, partnership)
    facts = _facts(session, partnership, snap)
    policy = reminder_policy(partnership)
    return list(
        snap.memo(
            ("due", today, days, policy),
            lambda: tuple(_due(snap.objectives, today, days, facts, policy)),
        )
    )


def overdue_due_items(
    objective: ObjectiveLike,
    today: dt.date,
    facts: ProgressFacts,
    policy: ReminderPolicy,
) -> list[DueItem]:
    """:func:`overdue_items` for one objective as :class:`DueItem` rows."""
    owners = tuple(o.slack_user_id for o in objective.owners if o.slack_user_id)
    snoozed = _active_snooze(facts, objective.id, today)
    return [
        DueItem(
            objective.id,
            objective.title,
            late.due_on,
            late.label,
            late.body,
            True,
            owners,
            late.kind,
            snoozed_until=snoozed,
        )
        for late in overdue_items(objective, today, facts.done_days.get(objective.id, ()), policy)
    ]


def upcoming_due_items(objective: ObjectiveLike, today: dt.date, days: int) -> list[DueItem]:
    """Dated things (deadlines, milestones, occurrences, meetings) due within ``days``."""
    if objective.status != ObjectiveStatus.OPEN:
        return []
    horizon = today + dt.timedelta(days=days)
    owners = tuple(o.slack_user_id for o in objective.owners if o.slack_user_id)
    return [
        DueItem(
            objective.id,
            objective.title,
            when,
            label,
            None,
            False,
            owners,
            "dated",
            month_only=month_only,
        )
        for when, label, month_only in upcoming_items(objective, today)
        if when <= horizon
    ]


def _due(
    objectives: Iterable[ObjectiveLike],
    today: dt.date,
    days: int,
    facts: ProgressFacts | None = None,
    policy: ReminderPolicy | None = None,
) -> list[DueItem]:
    facts = facts or ProgressFacts({}, {})
    policy = policy or ReminderPolicy()
    overdue: list[DueItem] = []
    upcoming: list[DueItem] = []
    for objective in objectives:
        overdue.extend(overdue_due_items(objective, today, facts, policy))
        upcoming.extend(upcoming_due_items(objective, today, days))
    overdue.sort(key=lambda d: (d.due_on, d.title))
    upcoming.sort(key=lambda d: (d.due_on, d.title))
    return overdue + upcoming


def meeting_view(meeting: Meeting) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        body=meeting.body,
        month=meeting.month,
        meeting_date=meeting.meeting_date,
        start_time=meeting.start_time,
        place=meeting.place,
        papers_due=meeting.papers_due,
    )


def upcoming_meetings(
    session: Session, partnership: Partnership, today: dt.date, days: int | None = None
) -> list[MeetingView]:
    rows = session.scalars(
        select(Meeting)
        .where(
            Meeting.partnership_id == partnership.id,
            Meeting.month >= today.replace(day=1),
        )
        .order_by(Meeting.month, Meeting.body)
    )
    views = []
    for meeting in rows:
        view = meeting_view(meeting)
        if meeting.meeting_date is not None and meeting.meeting_date < today:
            continue
        if days is not None and view.sort_date > today + dt.timedelta(days=days):
            continue
        views.append(view)
    views.sort(key=lambda v: (v.sort_date, v.body))
    return views


def meeting_bodies(session: Session, partnership: Partnership) -> list[str]:
    return list(
        session.scalars(
            select(Meeting.body)
            .where(Meeting.partnership_id == partnership.id)
            .distinct()
            .order_by(Meeting.body)
        )
    )


def set_meeting(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    body: str,
    when: dt.date,
    start: dt.time | None = None,
    place: str | None = None,
) -> MeetingView:
    """Set or move a meeting's date: the body's meeting programmed for that month,
    or else its next undated one."""
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can set meeting dates. Ask an admin, or see "
            "`/csp meetings` for what is planned."
        )
    bodies = meeting_bodies(session, partnership)
    chosen = _pick_body(body, bodies)
    month = when.replace(day=1)
    meeting = session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership.id,
            Meeting.body == chosen,
            Meeting.month == month,
        )
    ).one_or_none()
    moved_from: str | None = None
    if meeting is None:
        # Moving a meeting to another month: take that body's nearest meeting.
        candidates = session.scalars(
            select(Meeting).where(Meeting.partnership_id == partnership.id, Meeting.body == chosen)
        ).all()

        def distance(m: Meeting) -> int:
            return abs(((m.meeting_date or m.month) - when).days)

        near = [m for m in candidates if distance(m) <= 62]
        meeting = min(near, key=distance, default=None)
        if meeting is not None:
            moved_from = (
                meeting.meeting_date.strftime("%a %-d %b %Y")
                if meeting.meeting_date
                else f"{month_label(meeting.month)} (date to be set)"
            )
    if meeting is None:
        meeting = Meeting(partnership_id=partnership.id, body=chosen, month=month)
        session.add(meeting)
    meeting.month = month
    meeting.meeting_date = when
    if start is not None:
        meeting.start_time = start
    if place is not None:
        meeting.place = place
    session.flush()
    if meeting.objective_id is not None:
        # A linked meeting is one of its objective's dates: the plan changed.
        readcache.touch(
            session, get_objective(session, partnership, meeting.objective_id), _now_of(session)
        )
        session.flush()
    view = meeting_view(meeting)
    return replace(view, moved_from=moved_from) if moved_from else view


def refuse_past_meeting(
    partnership: Partnership, body: str, when: dt.date, now: dt.datetime
) -> None:
    """A kind UserError when ``when`` is before today (for `/csp meeting`)."""
    today = local_today(partnership, now)
    if when < today:
        raise UserError(
            f"{when.strftime('%-d %B %Y')} is in the past, so I have not changed anything. "
            "Give the date of the body's next meeting, today or later, e.g. "
            f"`/csp meeting {_quoted(body)} {(today + dt.timedelta(days=14)).isoformat()}`."
        )


def _quoted(body: str) -> str:
    return f'"{body}"' if " " in body else body


def _pick_body(query: str, bodies: Sequence[str]) -> str:
    """The one body ``query`` means, or a kind UserError listing the choices."""
    found = match_body(query, bodies)
    if found.single is not None:
        return found.single[1]
    example = "`/csp meeting RAG 2027-03-14 10:00`"
    if found.kind == "several":
        names = " or ".join(_quoted(b) for _, b in found.objectives)
        raise UserError(
            f"“{query}” could be {names}. Which one? Type more of the name, e.g. "
            f"`/csp meeting {_quoted(found.objectives[0][1])} 2027-03-14 10:00`."
        )
    if not bodies:
        raise UserError(
            "No meetings are planned yet, so there is no body to set a date for. "
            "Meetings come from the plan's timescales."
        )
    known = "; ".join(_quoted(b) for b in bodies)
    raise UserError(
        f"I couldn't find a body called “{query}”. Bodies with meetings: {known}. "
        f"Use a name, its start or its initials, e.g. {example}."
    )


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class ProgressResult:
    """What logging progress did: the objective now, the dated item ``done`` closed
    (e.g. "March 2026 deadline (Maldon District Council)"), whether the whole
    objective is now done, and the dated items still open (with "overdue since")."""

    summary: ObjectiveSummary
    closed_label: str | None = None
    objective_done: bool = False
    still_open: tuple[str, ...] = ()


def log_progress(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    rag: Rag | None,
    done: bool,
    note: str,
    now: dt.datetime,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
) -> ObjectiveSummary:
    """Append a progress entry (never overwritten) and update the objective's status."""
    return log_progress_result(
        session,
        partnership,
        actor,
        objective_id,
        rag=rag,
        done=done,
        note=note,
        now=now,
        as_of=as_of,
        evidence_url=evidence_url,
    ).summary


def log_progress_result(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    rag: Rag | None,
    done: bool,
    note: str,
    now: dt.datetime,
    as_of: dt.date | None = None,
    evidence_url: str | None = None,
    item_id: int | None = None,
) -> ProgressResult:
    """:func:`log_progress`, saying what ``done`` closed. ``done`` on an ongoing
    objective with nothing dated to close is refused kindly (nothing is stored).
    ``item_id`` (a reminder's Mark done) closes exactly that schedule item."""
    objective = get_objective(session, partnership, objective_id)
    if objective.plan_year != partnership.plan_year:
        raise UserError(
            f"{objective.title} belongs to the {objective.plan_year} plan, which is closed. "
            "Log progress against this year's plan: `/csp plan`."
        )
    note = note.strip()
    if not note and rag is None and not done:
        raise UserError(
            "A progress update needs a note, a RAG status or `done`. For example: "
            "`/csp progress dhr amber Panel booked for 3 March`."
        )
    today = local_today(partnership, now)
    if (
        done
        and objective.status == ObjectiveStatus.OPEN
        and not _open_dated(objective)
        and any(i.kind == ScheduleKind.ONGOING for i in objective.schedule)
    ):
        raise UserError(
            f"{objective.title} is ongoing, so there is nothing dated to mark done and I "
            "have not saved anything. Log how it is going instead, with a RAG status or "
            "a note, e.g. `/csp progress "
            f"{_short(objective.title)} green Panel met and actions agreed`."
        )
    if (
        done
        and objective.status == ObjectiveStatus.OPEN
        and not _open_dated(objective)
        and objective.meetings
        and not _continuing(objective, meetings=False)
    ):
        raise UserError(
            f"{objective.title} is carried on through its meetings, so there is nothing "
            "dated to mark done and I have not saved anything. Log how the last meeting "
            "went instead, e.g. `/csp progress "
            f"{_short(objective.title)} green Budget approved at the March meeting`, "
            "and set the next meeting's date with `/csp meeting`."
        )
    # Every read happens before the first change: SQLite writers take turns from their
    # first flush to the end of the transaction, so that turn is only the INSERT of the
    # entry and the UPDATE of the objective (and a closed item), then the caller's commit.
    with session.no_autoflush:
        _ = (objective.owners, objective.schedule, objective.meetings)  # load them now
        facts = progress_facts(session, partnership, [objective.id])
        stamp = readcache.next_stamp(session, partnership.id, now)
    entry = ProgressEntry(
        objective_id=objective.id,
        slack_user_id=actor.slack_user_id,
        author=actor.display_name or actor.slack_user_id,
        created_at=now,
        rag=rag,
        done=done,
        note=note,
        as_of=as_of,
        evidence_url=evidence_url,
    )
    session.add(entry)
    if rag is not None:
        objective.rag = rag
    closed: str | None = None
    if done:
        closed = _mark_done(objective, today, now, item_id=item_id)
    # The fingerprint moves with the new entry's id whatever the stamp; the stamp keeps
    # Objective.updated_at meaning "last changed".
    objective.updated_at = stamp
    still_open = tuple(
        _open_label(item, today) for item in _open_dated(objective) if item.due_on is not None
    )
    done_days = facts.done_days.get(objective.id, ())
    if done:
        done_days = (*done_days, now.astimezone(ZoneInfo(partnership.timezone)).date())
    summary = summarise(
        objective, today, now, done_days=done_days, policy=reminder_policy(partnership)
    )
    session.flush()
    return ProgressResult(
        summary=summary,
        closed_label=closed,
        objective_done=done and objective.status == ObjectiveStatus.DONE,
        still_open=still_open,
    )


def _short(title: str) -> str:
    """A short name for ``title`` that matching finds: its initials, else its first word."""
    letters = "".join(w[0] for w in title.split() if w[:1].isalpha() and w[0].isupper())
    return letters.lower() if len(letters) >= 2 else title.split()[0].lower()


def _open_dated(objective: Objective) -> list[ScheduleItem]:
    return sorted(
        (
            i
            for i in objective.schedule
            if i.kind in DATED_KINDS and i.due_on is not None and i.done_at is None
        ),
        key=lambda i: i.due_on or dt.date.max,
    )


def _when_text(item: ItemLike) -> str:
    assert item.due_on is not None
    return month_label(item.due_on) if item.month_only else item.due_on.strftime("%-d %B %Y")


def _closed_label(item: ItemLike) -> str:
    kind = "deadline" if item.kind == ScheduleKind.DEADLINE else "milestone"
    body = f" ({item.body})" if item.body else ""
    return f"{_when_text(item)} {kind}{body}"


def _open_label(item: ItemLike, today: dt.date) -> str:
    assert item.due_on is not None
    body = f", {item.body}" if item.body else ""
    late = (
        f" (overdue since {item.due_on.day} {item.due_on.strftime('%b')})"
        if item.due_on < today
        else ""
    )
    return f"{_when_text(item)}{body}{late}"


def _continuing(objective: Objective, *, meetings: bool = True) -> bool:
    """Whether the objective carries on after its dated items are met: ongoing or
    recurring work, or (with ``meetings``) meetings linked to it."""
    if any(i.kind in (ScheduleKind.RECURRING, ScheduleKind.ONGOING) for i in objective.schedule):
        return True
    return meetings and bool(objective.meetings)


def _mark_done(
    objective: Objective, today: dt.date, now: dt.datetime, *, item_id: int | None = None
) -> str | None:
    """Close the schedule item ``item_id`` when given (a recurring one is met by the done
    entry itself, so nothing is closed), else the earliest open dated item due by a month
    from now; close the objective when nothing dated, recurring, ongoing or meeting-linked
    remains. Returns what was closed."""
    open_items = _open_dated(objective)
    target: ScheduleItem | None
    if item_id is not None:
        target = next((i for i in open_items if i.id == item_id), None)
    else:
        soon = [
            i
            for i in open_items
            if i.due_on is not None and i.due_on <= today + dt.timedelta(days=31)
        ]
        target = soon[0] if soon else (open_items[0] if open_items else None)
    if target is not None:
        target.done_at = now
    remaining = [i for i in open_items if i is not target]
    continuing = _continuing(objective)
    if not remaining and not continuing:
        objective.status = ObjectiveStatus.DONE
        if objective.rag is None:
            objective.rag = Rag.GREEN
    return _closed_label(target) if target is not None else None


def set_owner(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    slack_user_id: str,
    *,
    replace: bool = False,
) -> ObjectiveSummary:
    if not actor.is_admin:
        raise NotAllowed(
            "Only partnership admins can assign owners. Ask an admin to run "
            "`/csp owner <objective> @person`."
        )
    objective = get_objective(session, partnership, objective_id)
    if replace:
        objective.owners.clear()
        session.flush()
    if not any(o.slack_user_id == slack_user_id for o in objective.owners):
        objective.owners.append(
            ObjectiveOwner(label=f"<@{slack_user_id}>", slack_user_id=slack_user_id)
        )
    readcache.touch(session, objective, _now_of(session))
    session.flush()
    return _summary_of(
        session, partnership, objective, local_today(partnership, _now_of(session)), None
    )


def _check_owner_or_admin(objective: Objective, actor: Actor, what: str) -> None:
    if actor.is_admin:
        return
    if any(o.slack_user_id == actor.slack_user_id for o in objective.owners):
        return
    raise NotAllowed(
        f"Only the owners of {objective.title} or an admin can {what}. "
        "You can still log progress with `/csp progress`."
    )


def snooze(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    until: dt.datetime,
) -> None:
    objective = get_objective(session, partnership, objective_id)
    _check_owner_or_admin(objective, actor, "snooze its reminders")
    objective.snoozed_until = until
    readcache.touch(session, objective, _now_of(session))
    session.flush()


def waive(
    session: Session, partnership: Partnership, actor: Actor, objective_id: int, now: dt.datetime
) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only partnership admins can waive an objective's reminders.")
    objective = get_objective(session, partnership, objective_id)
    objective.status = ObjectiveStatus.WAIVED
    readcache.touch(session, objective, now)
    session.flush()


@dataclass(frozen=True)
class DoneResult:
    """What a reminder's Mark done did: the objective now and what it closed, or (when
    the item was already closed) who closed it and on which local day."""

    summary: ObjectiveSummary
    closed_label: str | None = None
    already_done_by: str | None = None  # a Slack user ID, else the author's name
    already_done_on: dt.date | None = None

    @property
    def already_done(self) -> bool:
        return self.already_done_on is not None

    @property
    def already_text(self) -> str:
        """E.g. "already marked done by <@U1> on 3 Dec"."""
        assert self.already_done_on is not None
        by = self.already_done_by
        who = f" by <@{by}>" if by and by[:1] in ("U", "W") and by.isalnum() else ""
        if by and not who:
            who = f" by {by}"
        day = self.already_done_on
        return f"already marked done{who} on {day.day} {day.strftime('%b')}"


def mark_done(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    now: dt.datetime,
    note: str = "Marked done.",
    item_id: int | None = None,
) -> ObjectiveSummary:
    """Mark done as `/csp progress <objective> done` does, or (with ``item_id``) close
    exactly that schedule item; see :func:`mark_done_result`."""
    return mark_done_result(
        session, partnership, actor, objective_id, now=now, note=note, item_id=item_id
    ).summary


def mark_done_result(
    session: Session,
    partnership: Partnership,
    actor: Actor,
    objective_id: int,
    *,
    now: dt.datetime,
    note: str = "Marked done.",
    item_id: int | None = None,
) -> DoneResult:
    """Mark an objective's item done. With ``item_id`` only that item is closed, and an
    item already closed is left alone: nothing is stored and the result says who closed
    it and when."""
    objective = get_objective(session, partnership, objective_id)
    _check_owner_or_admin(objective, actor, "mark it done")
    if item_id is not None:
        item = next((i for i in objective.schedule if i.id == item_id), None)
        if item is None:
            raise UserError(
                f"That reminder's date is no longer in the plan for {objective.title}, so I "
                "have not closed anything. See what is open with `/csp show "
                f"{_short(objective.title)}` and close it with `/csp progress "
                f"{_short(objective.title)} done`."
            )
        if item.done_at is None and item in _open_dated(objective):
            # Two clicks may both have read the item open: the store decides which one
            # closes it (compare-and-set), so a double click logs one "done" entry. The
            # loaded item is left as read; log_progress_result closes it as usual.
            session.flush()
            won = session.execute(
                update(ScheduleItem)
                .where(ScheduleItem.id == item.id, ScheduleItem.done_at.is_(None))
                .values(done_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(won, "rowcount", 0) != 1:
                session.refresh(item)
        if item.done_at is not None:
            by, on = _closed_by(session, partnership, objective.id, item.done_at)
            summary = _summary_of(
                session, partnership, objective, local_today(partnership, now), None
            )
            return DoneResult(summary=summary, already_done_by=by, already_done_on=on)
    result = log_progress_result(
        session,
        partnership,
        actor,
        objective_id,
        rag=None,
        done=True,
        note=note,
        now=now,
        item_id=item_id,
    )
    return DoneResult(summary=result.summary, closed_label=result.closed_label)


def _closed_by(
    session: Session, partnership: Partnership, objective_id: int, done_at: dt.datetime
) -> tuple[str | None, dt.date]:
    """Who closed an item at ``done_at`` (the "done" entry logged with it) and the local
    day it happened."""
    entry = session.scalars(
        select(ProgressEntry)
        .where(
            ProgressEntry.objective_id == objective_id,
            ProgressEntry.done.is_(True),
            ProgressEntry.created_at <= done_at,
        )
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(1)
    ).first()
    who = (entry.slack_user_id or entry.author) if entry is not None else None
    return who, local_date(done_at, partnership.timezone)
