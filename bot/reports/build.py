"""The scrutiny pack's model, built from the plan snapshot, progress history and counts.

Pure reading: the same data, quarter and day give the same model. The period ends on
the quarter's last day, or on ``today`` while the quarter is still running.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.plan import readcache
from bot.plan.schedule import (
    item_label,
    occurrences,
    overdue_items,
    partnership_calendar,
    reminder_policy,
)
from bot.plan.snapshot import ObjectiveSnap
from bot.plan.snapshot import scopes as snapshot_scopes
from bot.plan.years import local_date
from bot.referrals.counts import period_referral_counts
from bot.referrals.vocabulary import CATEGORY_LABELS, URGENCY_LABELS, Category, Urgency, label
from bot.reports import queries
from bot.reports.cycle import meeting_lines, statutory_cycle
from bot.reports.history import Entry, as_of, bucket_at
from bot.reports.model import (
    BUCKETS,
    ActionSection,
    CountRow,
    DeadlineLine,
    NoteLine,
    ObjectiveSection,
    OverdueLine,
    RagCount,
    ReferralFigures,
    Report,
    Summary,
)
from bot.time.policy import ReminderPolicy
from bot.time.quarters import Quarter, quarter_of
from bot.time.workdays import WorkingCalendar
from store.models import ObjectiveStatus, Partnership, ScheduleKind

_RANK = {"red": 0, "amber": 1, "green": 2, "done": 3}


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant ``day`` begins in the partnership's zone."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def build_report(
    session: Session, partnership: Partnership, quarter: Quarter, *, now: dt.datetime
) -> Report:
    """The pack for ``quarter`` as the data stands at ``now``. A quarter still running is
    reported up to the end of today; a referral's clock is judged at ``now`` at the latest."""
    today = local_date(now, partnership.timezone)
    if today < quarter.start:
        current = quarter_of(today)
        raise UserError(
            f"{quarter.label} ({quarter.months}) has not started yet, so there is nothing "
            f"to report. The current quarter is {current.code} ({current.months})."
        )
    as_at = min(today, quarter.end)
    zone = ZoneInfo(partnership.timezone)
    start_cut = local_midnight(quarter.start, zone)
    end_cut = local_midnight(as_at + dt.timedelta(days=1), zone)
    snap = readcache.plan_snapshot(session, partnership.id, quarter.year)
    texts = queries.objective_texts(session, partnership.id, quarter.year)
    names = queries.member_names(session, partnership.id)
    history: dict[int, list[Entry]] = {o.id: [] for o in snap.objectives}
    by_action: dict[int, list[Entry]] = {}
    for oid, at, author, rag, done, note, aid in queries.progress_rows(
        session, partnership.id, quarter.year
    ):
        aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        entry = Entry(aware, author, rag, bool(done), note or "")
        history.setdefault(oid, []).append(entry)
        by_action.setdefault(aid, []).append(entry)
    policy = reminder_policy(partnership)
    cal = partnership_calendar(partnership)
    window = _Window(quarter, as_at, zone, start_cut, end_cut, policy, cal)
    sections = tuple(
        ObjectiveSection(
            number=number,
            title=o.title,
            statutory_basis=texts.get(o.id, ("", None))[1],
            actions=_actions(o, texts.get(o.id, ("", None))[0], history, by_action, names, window),
        )
        for number, o in enumerate(snap.objectives, start=1)
    )
    views = {o.id: as_of(o, history[o.id], end_cut) for o in snap.objectives}
    held, coming = meeting_lines(
        queries.meetings_between(session, partnership.id, quarter.start, quarter.next().end),
        quarter,
        as_at,
    )
    return Report(
        partnership=partnership.name,
        quarter=quarter,
        as_at=as_at,
        summary=_summary(sections, sum(_notes(history, start_cut, end_cut))),
        objectives=sections,
        meetings_held=held,
        meetings_coming=coming,
        cycle=statutory_cycle(
            [views[o.id] for o in snap.objectives], history, quarter, as_at, zone, cal
        ),
        referrals=_referrals(session, partnership, start_cut, end_cut, min(now, end_cut)),
    )


class _Window:
    """The period and the rules every action in it is read with."""

    def __init__(
        self,
        quarter: Quarter,
        as_at: dt.date,
        zone: ZoneInfo,
        start_cut: dt.datetime,
        end_cut: dt.datetime,
        policy: ReminderPolicy,
        cal: WorkingCalendar,
    ) -> None:
        self.quarter, self.as_at, self.zone = quarter, as_at, zone
        self.start_cut, self.end_cut = start_cut, end_cut
        self.policy, self.cal = policy, cal


def _notes(history: dict[int, list[Entry]], start: dt.datetime, end: dt.datetime) -> list[int]:
    return [sum(1 for e in entries if start <= e.at < end) for entries in history.values()]


def _owner(label_text: str, user_id: str | None, names: dict[str, str]) -> str:
    if user_id:
        return names.get(user_id) or (label_text if label_text != user_id else user_id)
    return label_text


def _actions(
    objective: ObjectiveSnap,
    text: str,
    history: dict[int, list[Entry]],
    by_action: dict[int, list[Entry]],
    names: dict[str, str],
    w: _Window,
) -> tuple[ActionSection, ...]:
    """The objective's one action (read as the objective, as it always was), or each of
    its several with its own owners, schedule, RAG, status and progress."""
    if len(objective.actions) <= 1:
        return (_action(objective, text, history[objective.id], names, w),)
    texts = {a.id: a.text for a in objective.actions}
    return tuple(
        _action(scope, texts[aid], by_action.get(aid, []), names, w)
        for scope in snapshot_scopes(objective)
        if (aid := scope.action_id) is not None
    )


def _action(
    objective: ObjectiveSnap,
    text: str,
    history: Sequence[Entry],
    names: dict[str, str],
    w: _Window,
) -> ActionSection:
    view = as_of(objective, history, w.end_cut)
    done_days = [local_date(e.at, w.zone) for e in history if e.done and e.at < w.end_cut]
    late = overdue_items(view, w.as_at, done_days, w.policy, w.cal)
    nxt = w.quarter.next()
    coming: list[DeadlineLine] = []
    if view.status == ObjectiveStatus.OPEN:
        for item in view.schedule:
            for due in occurrences(item, nxt.start, nxt.end + dt.timedelta(days=1), w.cal):
                recurring = item.kind == ScheduleKind.RECURRING
                coming.append(
                    DeadlineLine(
                        due_on=due,
                        label=(item.source_text or "recurring") if recurring else item_label(item),
                        month_only=item.month_only and not recurring,
                    )
                )
    coming.sort(key=lambda d: (d.due_on, d.label))
    return ActionSection(
        text=text,
        owners=tuple(_owner(o.label, o.slack_user_id, names) for o in objective.owners),
        status=str(view.status),
        rag_start=bucket_at(objective, history, w.start_cut),
        rag_now=bucket_at(objective, history, w.end_cut),
        notes=tuple(
            NoteLine(
                on=local_date(e.at, w.zone),
                author=e.author,
                status="done" if e.done else (e.rag or ""),
                note=e.note,
            )
            for e in history
            if w.start_cut <= e.at < w.end_cut
        ),
        overdue=tuple(
            OverdueLine(due_on=o.due_on, label=o.label, days=(w.as_at - o.due_on).days)
            for o in late
        ),
        next_deadlines=tuple(coming),
    )


def _summary(sections: Sequence[ObjectiveSection], notes: int) -> Summary:
    actions = [a for s in sections for a in s.actions]
    counts = tuple(
        RagCount(
            bucket,
            at_start=sum(1 for a in actions if a.rag_start == bucket),
            now=sum(1 for a in actions if a.rag_now == bucket),
        )
        for bucket in BUCKETS
    )
    improved = worsened = 0
    for a in actions:
        if a.rag_start in _RANK and a.rag_now in _RANK:
            improved += _RANK[a.rag_now] > _RANK[a.rag_start]
            worsened += _RANK[a.rag_now] < _RANK[a.rag_start]
    return Summary(
        counts=counts,
        improved=improved,
        worsened=worsened,
        unchanged=sum(1 for a in actions if a.rag_now == a.rag_start),
        overdue=sum(1 for a in actions if a.overdue),
        notes=notes,
    )


def _referrals(
    session: Session,
    partnership: Partnership,
    start: dt.datetime,
    end: dt.datetime,
    judged: dt.datetime,
) -> ReferralFigures:
    counts = period_referral_counts(session, partnership, start, end, judged_at=judged)
    categories = [c.value for c in Category]
    categories += sorted(set(counts.by_category) - set(categories))
    urgencies = [u.value for u in Urgency]
    urgencies += sorted(set(counts.by_urgency) - set(urgencies))
    return ReferralFigures(
        total=counts.total,
        by_category=tuple(
            CountRow(label(c, CATEGORY_LABELS), counts.by_category.get(c, 0)) for c in categories
        ),
        by_urgency=tuple(
            CountRow(label(u, URGENCY_LABELS), counts.by_urgency.get(u, 0)) for u in urgencies
        ),
        by_clock=(
            CountRow("Acknowledged within the clock", counts.acknowledged_in_time),
            CountRow("Acknowledged after the clock ran out", counts.acknowledged_late),
            CountRow("Awaiting acknowledgement, within the clock", counts.waiting_in_time),
            CountRow("Awaiting acknowledgement, past the clock", counts.waiting_late),
        ),
    )
