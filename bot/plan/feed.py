"""The calendar feed's read model: deadlines and meetings as events, and the feed's secret.

Deadlines come from the same schedule maths as every view (``occurrences``,
``overdue_items``' "done" rule), meetings from the meeting rows; nothing else is read,
so no referral data can reach a calendar. Each event's UID is made from the rows it
comes from (objective, the item's place in its schedule, the occurrence's date, or
the meeting), so a re-import or a re-subscription updates events instead of adding
copies. An objective with several actions has each action's events, named with the
action and keyed by its id too (``o12a40``); a one-action objective's keep their UIDs.
The secret lives in the partnership's settings (``calendar_secret``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.plan import export_queries
from bot.plan.actions import Scope, scopes
from bot.plan.queries import current_objectives
from bot.plan.reading import action_done_days, progress_facts
from bot.plan.schedule import (
    DATED_KINDS,
    met_occurrences,
    occurrences,
    partnership_calendar,
    recurring_dates,
)
from bot.plan.workbook import year_window
from bot.plan.years import plan_year_label
from bot.time.workdays import WorkingCalendar
from store.models import Meeting, Partnership, ScheduleKind

FEED_SETTING = "calendar_secret"
MEETING_LENGTH = dt.timedelta(hours=2)  # a meeting's end is not recorded; two hours shown
AHEAD = dt.timedelta(days=366)  # recurring dates are listed at least this far ahead
UID_DOMAIN = "csp-bot"

Status = Literal["CONFIRMED", "CANCELLED", "TENTATIVE"]


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    day: dt.date  # the day of an all-day event, or of a timed one's start
    starts: dt.datetime | None  # timed events: aware, in the partnership's zone
    ends: dt.datetime | None
    place: str
    description: str
    status: Status
    done: bool


@dataclass(frozen=True)
class Feed:
    name: str  # "Maldon CSP: plan 2026/27"
    zone: str
    first: dt.date  # the span the events cover (for the VTIMEZONE)
    last: dt.date
    events: tuple[FeedEvent, ...]


def feed_window(partnership: Partnership, today: dt.date) -> tuple[dt.date, dt.date]:
    """From the plan year's 1 April to the end of the plan year or a year ahead, later."""
    first, end = year_window(partnership.plan_year)
    return first, max(end, today + AHEAD)


def build_feed(session: Session, partnership: Partnership, today: dt.date) -> Feed:
    zone = ZoneInfo(partnership.timezone)
    first, end = feed_window(partnership, today)
    cal = partnership_calendar(partnership)
    objectives = current_objectives(session, partnership)
    facts = progress_facts(session, partnership, (o.id for o in objectives))
    by_action = action_done_days(session, partnership, objectives)
    events: list[FeedEvent] = []
    for objective in objectives:
        for scope in scopes(objective):
            done_days = (
                facts.done_days.get(objective.id, ())
                if scope.action_id is None
                else by_action.get(scope.action_id, ())
            )
            events.extend(_deadlines(partnership, scope, done_days, first, end, cal))
    titles = {o.id: o.title for o in objectives}
    for meeting in export_queries.plan_meetings(session, partnership.id, objectives, first, end):
        event = _meeting(partnership, meeting, titles, zone)
        if event is not None:
            events.append(event)
    events.sort(key=lambda e: (e.day, e.starts or dt.datetime.min.replace(tzinfo=zone), e.uid))
    days = [e.day for e in events]
    return Feed(
        name=f"{partnership.name}: plan {plan_year_label(partnership.plan_year)}",
        zone=partnership.timezone,
        first=min([first, *days]),
        last=max([end, *days]) + dt.timedelta(days=1),
        events=tuple(events),
    )


def _show_hint(title: str) -> str:
    return f"In Slack: /csp show {title}"


def _deadlines(
    partnership: Partnership,
    objective: Scope,
    done_days: tuple[dt.date, ...],
    first: dt.date,
    end: dt.date,
    cal: WorkingCalendar,
) -> Iterator[FeedEvent]:
    """The dated events of a one-action objective, or of one action of an objective with
    several (``objective.action`` then names it, and its id is in the UIDs)."""
    waived = objective.status == "waived"
    closed = objective.status != "open"
    base = f"csp-{partnership.id}-{objective.key}"
    name = f"{objective.title}, action {objective.action}" if objective.action else objective.title
    action = f"Action {objective.action.rstrip('.')}." if objective.action else ""
    for index, item in enumerate(objective.schedule):
        what = f"{name} ({item.body})" if item.body else name
        if item.kind in DATED_KINDS and item.due_on is not None:
            dates = [(item.due_on, item.done_at is not None, f"{base}-i{index}")]
        elif item.kind == ScheduleKind.RECURRING:
            met = met_occurrences(recurring_dates(item, end, cal), done_days)
            dates = [
                (due, due in met, f"{base}-i{index}-{due:%Y%m%d}")
                for due in occurrences(item, first, end, cal)
            ]
        else:
            continue  # ongoing work and undated text fall due on no day
        for due, done, uid in dates:
            done = done or (closed and not waived)
            status: Status
            if waived:
                summary, status = f"Waived: {what}", "CANCELLED"
            elif done:
                summary, status = f"Done: {what}", "CONFIRMED"
            else:
                summary, status = f"Due: {what}", "CONFIRMED"
            source = f" Timescale: {objective.timescale_text}." if objective.timescale_text else ""
            yield FeedEvent(
                uid=f"{uid}@{UID_DOMAIN}",
                summary=summary,
                day=due,
                starts=None,
                ends=None,
                place="",
                description=" ".join(
                    part
                    for part in (
                        "Done." if done else "",
                        action,
                        source.strip(),
                        _show_hint(objective.title),
                    )
                    if part
                ),
                status=status,
                done=done,
            )


def _meeting(
    partnership: Partnership, meeting: Meeting, titles: dict[int, str], zone: ZoneInfo
) -> FeedEvent | None:
    if meeting.meeting_date is None:
        return None  # known only to its month: no day to show yet
    starts = ends = None
    if meeting.start_time is not None:
        starts = dt.datetime.combine(meeting.meeting_date, meeting.start_time, tzinfo=zone)
        ends = (starts.astimezone(dt.UTC) + MEETING_LENGTH).astimezone(zone)
    title = titles.get(meeting.objective_id or 0)
    hint = _show_hint(title) if title else "In Slack: /csp meetings"
    papers = f"Papers due {meeting.papers_due:%-d %B %Y}. " if meeting.papers_due else ""
    return FeedEvent(
        uid=f"csp-{partnership.id}-m{meeting.id}@{UID_DOMAIN}",
        summary=f"{meeting.body} meeting",
        day=meeting.meeting_date,
        starts=starts,
        ends=ends,
        place=meeting.place or "",
        description=f"{papers}{hint}",
        status="CONFIRMED",
        done=False,
    )


# --------------------------------------------------------------------------- the secret


def calendar_secret(partnership: Partnership) -> str | None:
    value = (partnership.settings or {}).get(FEED_SETTING)
    return value if isinstance(value, str) and value else None


def ensure_secret(partnership: Partnership) -> str:
    """The partnership's feed secret, made on first use."""
    return calendar_secret(partnership) or rotate_secret(partnership)


def rotate_secret(partnership: Partnership) -> str:
    """A new feed secret: the old link stops working at once."""
    secret = secrets.token_urlsafe(24)
    partnership.settings = {**(partnership.settings or {}), FEED_SETTING: secret}
    return secret


def partnership_for_secret(session: Session, secret: str) -> Partnership | None:
    """The partnership whose feed secret is ``secret`` (compared in constant time)."""
    found = None
    for partnership in export_queries.all_partnerships(session):
        mine = calendar_secret(partnership)
        if mine is not None and hmac.compare_digest(mine.encode(), secret.encode()):
            found = partnership
    return found


def feed_path(secret: str) -> str:
    return f"/calendar/{secret}.ics"
