"""Reminder policy: when deadlines, meetings and quiet objectives are brought up.

The policy lives per partnership in ``Partnership.settings["reminders"]`` (a JSON
object; any key left out takes the default below). Everything here is pure: dates
in, dates and instants out, no database and no Slack.

Rules (defaults):

* dated deadlines and milestones: 14 days, 7 days and 1 working day before, and on
  the day; then an overdue notice every 7 days until the item is done, snoozed or
  waived;
* meetings: 7 days before (with "papers due" when set) and on the morning;
* undated meetings: one "set the date" prompt to admins a month ahead;
* ongoing objectives: a prompt to the owners after 30 days with no progress;
* late (catch-up) notices, found after downtime or by a cron sweep off the hour,
  wait for working hours: a working day between the send time and 18:00 local.
  They are never sent at night or at a weekend (safeguarding escalations are not
  reminders and are never held);
* everything is sent at 09:00 in the partnership's zone on a working day. Notices
  that would land on a weekend or an England-and-Wales bank holiday move to the
  previous working day ("before" notices and the on-the-day notice alike, so the
  warning always comes first); overdue and quiet prompts move to the next one.
  When two notices for the same date fall on the same day, the later stage wins.

Each notice is *useful until* the next notice for the same thing is due, so after
downtime the next sweep sends only the latest notice that still applies.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.time.workdays import WorkingCalendar, default_calendar

EARLIEST = dt.time(7, 0)  # no notice goes out earlier than this, local time
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DigestAt:
    weekday: int  # 0 = Monday
    at: dt.time

    @property
    def cron_day(self) -> str:
        return WEEKDAYS[self.weekday]

    def label(self) -> str:
        return f"{self.cron_day} {self.at.strftime('%H:%M')}"


def parse_digest_at(text: str) -> DigestAt:
    """Read "mon 09:00" (a weekday and a 24-hour time) into a :class:`DigestAt`."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        raise ValueError(f"{text!r} is not a weekly time; write it like 'mon 09:00'")
    try:
        hour_s, minute_s = parts[1].split(":")
        at = dt.time(int(hour_s), int(minute_s))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a weekly time; write it like 'mon 09:00'") from exc
    return DigestAt(WEEKDAYS.index(parts[0][:3]), at)


@dataclass(frozen=True)
class ReminderPolicy:
    days_before: tuple[int, ...] = (14, 7)
    working_days_before: tuple[int, ...] = (1,)
    on_the_day: bool = True
    overdue_every_days: int = 7
    meeting_days_before: tuple[int, ...] = (7,)
    meeting_on_the_day: bool = True
    undated_meeting_prompt_days: int = 30
    ongoing_quiet_days: int = 30
    send_at: dt.time = dt.time(9, 0)
    digest_at: DigestAt = DigestAt(0, dt.time(9, 0))
    digest_useful_hours: int = 48
    late_after_minutes: int = 60
    # Late (catch-up) notices wait for working hours: a working day, from ``send_at``
    # until this local time.
    catch_up_until: dt.time = dt.time(18, 0)

    @classmethod
    def from_settings(
        cls, raw: dict[str, Any] | None, *, digest_default: str = "mon 09:00"
    ) -> ReminderPolicy:
        """Build the policy from ``Partnership.settings``; bad values raise ValueError."""
        data = dict((raw or {}).get("reminders") or {})
        digest_text = str(data.pop("digest_at", None) or (raw or {}).get("digest_at") or "")
        kwargs: dict[str, Any] = {"digest_at": parse_digest_at(digest_text or digest_default)}
        for name in ("days_before", "working_days_before", "meeting_days_before"):
            if name in data:
                kwargs[name] = tuple(sorted({int(v) for v in data[name]}, reverse=True))
        for name in (
            "overdue_every_days",
            "undated_meeting_prompt_days",
            "ongoing_quiet_days",
            "digest_useful_hours",
            "late_after_minutes",
        ):
            if name in data:
                value = int(data[name])
                if value <= 0:
                    raise ValueError(f"reminder setting {name} must be a positive number")
                kwargs[name] = value
        for name in ("on_the_day", "meeting_on_the_day"):
            if name in data:
                kwargs[name] = bool(data[name])
        for name in ("send_at", "catch_up_until"):
            if name in data:
                hour, minute = str(data[name]).split(":")
                kwargs[name] = dt.time(int(hour), int(minute))
        return cls(**kwargs)

    def times_of_day(self) -> tuple[dt.time, ...]:
        """Local clock times at which this policy's notices can become due: the send
        time, the digest time and the half hours from 07:00 (early-meeting notes)."""
        early = {dt.time(h, m) for h in range(EARLIEST.hour, 12) for m in (0, 30)}
        return tuple(sorted({self.send_at, self.digest_at.at} | early))


@dataclass(frozen=True)
class Notice:
    stage: str  # "d14", "d7", "wd1", "day", "overdue", "meeting_d7", "meeting_day", ...
    on: dt.date  # local date it is sent
    at: dt.datetime  # aware UTC instant it is sent
    useful_until: dt.datetime | None  # aware UTC; None = until superseded by nothing


def local_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """``day`` at local wall time ``at`` as an aware UTC instant (DST-safe)."""
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=_calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _chain(stages: list[tuple[str, dt.date]], zone: ZoneInfo, at: dt.time) -> list[Notice]:
    """Sort by date, keep the later stage when two share a day, link useful_until."""
    by_day: dict[dt.date, str] = {}
    for stage, day in stages:  # stages are given earliest-stage first
        by_day[day] = stage
    days = sorted(by_day)
    notices: list[Notice] = []
    for i, day in enumerate(days):
        nxt = local_instant(days[i + 1], at, zone) if i + 1 < len(days) else None
        notices.append(Notice(by_day[day], day, local_instant(day, at, zone), nxt))
    return notices


def deadline_stages(
    due: dt.date, policy: ReminderPolicy, cal: WorkingCalendar | None = None
) -> list[tuple[str, dt.date]]:
    """The reminder ladder for a deadline on ``due``: each stage and the local day it
    falls on (moved back to a working day), earliest stage first ("d14", "d7", "wd1",
    "day" by default). Two stages may share a day; :func:`deadline_notices` keeps the
    later one."""
    cal = cal or default_calendar()
    stages: list[tuple[str, dt.date]] = []
    for days in sorted(policy.days_before, reverse=True):
        stages.append((f"d{days}", cal.on_or_before(due - dt.timedelta(days=days))))
    for n in sorted(policy.working_days_before, reverse=True):
        stages.append((f"wd{n}", cal.add_working_days(due, -n)))
    if policy.on_the_day:
        stages.append(("day", cal.on_or_before(due)))
    return stages


def deadline_notices(
    due: dt.date,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> list[Notice]:
    """The before and on-the-day notices for a deadline, earliest first.

    The last one (on the day) is useful until the first overdue notice.
    """
    cal = cal or default_calendar()
    notices = _chain(deadline_stages(due, policy, cal), zone, policy.send_at)
    if notices:
        first_overdue = overdue_day(due, 1, policy, cal)
        last = notices[-1]
        notices[-1] = Notice(
            last.stage, last.on, last.at, local_instant(first_overdue, policy.send_at, zone)
        )
    return notices


def first_notice_day(
    due: dt.date, policy: ReminderPolicy, cal: WorkingCalendar | None = None
) -> dt.date:
    """The local day the first notice for a deadline on ``due`` goes out (``due``
    itself when the policy sends nothing before)."""
    return min((day for _, day in deadline_stages(due, policy, cal)), default=due)


def overdue_day(
    due: dt.date, n: int, policy: ReminderPolicy, cal: WorkingCalendar | None = None
) -> dt.date:
    """The day of the ``n``-th overdue notice (n >= 1), on or after a working day."""
    cal = cal or default_calendar()
    return cal.on_or_after(due + dt.timedelta(days=policy.overdue_every_days * n))


def latest_overdue(
    due: dt.date,
    now: dt.datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> tuple[int, Notice] | None:
    """The overdue notice live at ``now`` (its number and notice), or None if none yet."""
    cal = cal or default_calendar()
    today = now.astimezone(zone).date()
    if today <= due:
        return None
    n = max(1, (today - due).days // policy.overdue_every_days + 1)
    # Walk back to the latest one whose instant has come (at most two steps).
    while n >= 1:
        day = overdue_day(due, n, policy, cal)
        at = local_instant(day, policy.send_at, zone)
        if at <= now:
            nxt = local_instant(overdue_day(due, n + 1, policy, cal), policy.send_at, zone)
            return n, Notice(f"overdue{n}", day, at, nxt)
        n -= 1
    return None


def meeting_notices(
    meeting_date: dt.date,
    start: dt.time | None,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> list[Notice]:
    """Before notices (moved to working days) and the morning notice of a meeting."""
    cal = cal or default_calendar()
    stages: list[tuple[str, dt.date]] = [
        (f"meeting_d{days}", cal.on_or_before(meeting_date - dt.timedelta(days=days)))
        for days in sorted(policy.meeting_days_before, reverse=True)
    ]
    stages = [(s, d) for s, d in stages if d < meeting_date]
    notices = _chain(stages, zone, policy.send_at)
    if policy.meeting_on_the_day:
        morning_at = policy.send_at
        if start is not None:
            # Never after the meeting has started: an early meeting gets an early note,
            # but not before 07:00.
            # (rounded down to the half hour: see times_of_day)
            early = dt.datetime.combine(meeting_date, start) - dt.timedelta(hours=1)
            early = early.replace(minute=early.minute - early.minute % 30)
            morning_at = max(min(morning_at, early.time()), EARLIEST)
        morning = local_instant(meeting_date, morning_at, zone)
        ends = local_instant(meeting_date, start, zone) if start else None
        if ends is None or ends <= morning:
            ends = local_instant(meeting_date + dt.timedelta(days=1), dt.time(0), zone)
        if notices:
            last = notices[-1]
            notices[-1] = Notice(last.stage, last.on, last.at, morning)
        notices.append(Notice("meeting_day", meeting_date, morning, ends))
    return notices


def set_date_prompt(
    month: dt.date,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> Notice:
    """The one "set the date" prompt for a meeting known only by its month."""
    cal = cal or default_calendar()
    first = month.replace(day=1)
    day = cal.on_or_before(first - dt.timedelta(days=policy.undated_meeting_prompt_days))
    until = local_instant(month_end(first) + dt.timedelta(days=1), dt.time(0), zone)
    return Notice("set_date", day, local_instant(day, policy.send_at, zone), until)


def quiet_prompt(
    last_activity: dt.datetime,
    now: dt.datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> Notice | None:
    """The progress prompt live at ``now`` for an ongoing objective, if one is due.

    Prompts fall every ``ongoing_quiet_days`` after the last progress (or after the
    objective was created), moved to the next working day.
    """
    cal = cal or default_calendar()
    start = last_activity.astimezone(zone).date()
    today = now.astimezone(zone).date()
    every = policy.ongoing_quiet_days
    n = (today - start).days // every
    while n >= 1:
        day = cal.on_or_after(start + dt.timedelta(days=every * n))
        at = local_instant(day, policy.send_at, zone)
        if at <= now:
            nxt_day = cal.on_or_after(start + dt.timedelta(days=every * (n + 1)))
            return Notice(f"quiet{n}", day, at, local_instant(nxt_day, policy.send_at, zone))
        n -= 1
    return None


def catch_up_open(
    now: dt.datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> bool:
    """Whether a late notice may go out at ``now``: a working day, between the send
    time and ``catch_up_until`` local time."""
    cal = cal or default_calendar()
    local = now.astimezone(zone)
    return (
        cal.is_working_day(local.date())
        and policy.send_at <= local.time().replace(tzinfo=None) < policy.catch_up_until
    )


def next_catch_up(
    now: dt.datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> dt.datetime:
    """The first instant from ``now`` at which late notices may go out (aware UTC)."""
    cal = cal or default_calendar()
    if catch_up_open(now, policy, zone, cal):
        return now
    local = now.astimezone(zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= policy.send_at:
        day += dt.timedelta(days=1)
    return local_instant(cal.on_or_after(day), policy.send_at, zone)


def held_for_working_hours(
    occurrence: dt.datetime,
    now: dt.datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    cal: WorkingCalendar | None = None,
) -> bool:
    """Whether a notice meant for ``occurrence`` is late at ``now`` and must wait for
    working hours (see :func:`catch_up_open`)."""
    late = now - occurrence > dt.timedelta(minutes=policy.late_after_minutes)
    return late and not catch_up_open(now, policy, zone, cal)


def digest_occurrence(
    now: dt.datetime, policy: ReminderPolicy, zone: ZoneInfo
) -> tuple[str, dt.datetime, dt.datetime] | None:
    """This week's digest (ISO week label, instant, useful until) if its time has come."""
    local = now.astimezone(zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    day = monday + dt.timedelta(days=policy.digest_at.weekday)
    at = local_instant(day, policy.digest_at.at, zone)
    if at > now:
        return None
    iso = day.isocalendar()
    until = at + dt.timedelta(hours=policy.digest_useful_hours)
    return f"{iso.year}-W{iso.week:02d}", at, until


def crossed_send_time(
    since: dt.datetime, now: dt.datetime, times: tuple[dt.time, ...], zone: ZoneInfo
) -> bool:
    """Whether a local ``time`` in ``times`` falls in ``(since, now]`` in ``zone``."""
    if now <= since:
        return False
    first = since.astimezone(zone).date()
    last = now.astimezone(zone).date()
    if (last - first).days > 2:
        return True
    day = first
    while day <= last:
        for at in times:
            instant = local_instant(day, at, zone)
            if since < instant <= now:
                return True
        day += dt.timedelta(days=1)
    return False
