"""The catch-up summary: what was already overdue at a plan load or a new channel, in one message.

Without it, a freshly imported or rolled-forward plan, or a channel just set, would get
one late notice per overdue item at the first sweep. :func:`apply_catch_up` takes the
reminder source's proposals: overdue notices whose time had come by the catch-up instant
(:func:`bot.plan.catch_up.catch_up_since`) are held back, for every target, and listed
in one ``overdue_summary`` message to the partnership channel instead; each item is
chased again from its next weekly notice. When a digest goes to the channel in that
window, the digest (which lists every overdue item) stands in for the summary. On a
digest day, overdue notices to the channel are left to the digest too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, PlannedDelivery
from bot.notices.notice_policy import NoticeContext, policy_for
from bot.notices.queries import digest_posted_since, objective_by_id
from bot.plan.catch_up import catch_up_since
from bot.plan.reading import progress_facts
from bot.plan.schedule import overdue_items, partnership_calendar
from bot.plan.years import local_date
from bot.time.policy import digest_occurrence, held_for_working_hours, local_instant
from store.models import Delivery, ObjectiveStatus


def _last_digest(ctx: NoticeContext) -> dt.datetime:
    """The latest digest time at or before now."""
    local = ctx.now.astimezone(ctx.zone).date()
    day = local - dt.timedelta(days=local.weekday() - ctx.policy.digest_at.weekday)
    if day > local or local_instant(day, ctx.policy.digest_at.at, ctx.zone) > ctx.now:
        day -= dt.timedelta(days=7)
    return local_instant(day, ctx.policy.digest_at.at, ctx.zone)


def _digest_going_now(ctx: NoticeContext) -> bool:
    """Whether this week's digest is live and goes out in this very sweep."""
    found = digest_occurrence(ctx.now, ctx.policy, ctx.zone)
    if found is None:
        return False
    _week, at, until = found
    return ctx.now < until and not held_for_working_hours(at, ctx.now, ctx.policy, ctx.zone)


class _DigestDay:
    """Whether the latest digest reached the channel, asked at most once per sweep."""

    def __init__(self, session: Session, ctx: NoticeContext) -> None:
        self.session = session
        self.ctx = ctx
        self.at = _last_digest(ctx)
        self._posted: bool | None = None

    def lists(self, planned: PlannedDelivery) -> bool:
        """Whether that digest lists the item: the notice fell due on or before the
        digest's day (a notice from the weekend still waiting on Monday included) and
        the digest went, or goes now, to the channel."""
        zone = self.ctx.zone
        if planned.occurrence.astimezone(zone).date() > self.at.astimezone(zone).date():
            return False
        if self._posted is None:
            assert self.ctx.channel is not None
            self._posted = _digest_going_now(self.ctx) or digest_posted_since(
                self.session, self.ctx.partnership.id, self.ctx.channel, self.at
            )
        return self._posted


def _digest_covers(session: Session, ctx: NoticeContext, since: dt.datetime) -> bool:
    """Whether a digest to the channel lists the overdue items from ``since`` on: one
    already planned since then, or this week's, going out in this very sweep."""
    assert ctx.channel is not None
    return digest_posted_since(
        session, ctx.partnership.id, ctx.channel, since
    ) or _digest_going_now(ctx)


def _named(planned: PlannedDelivery) -> str:
    """The objective's title, and the action's ("PREVENT, action 2. Train staff")."""
    title = str(planned.payload.get("title", ""))
    action = planned.payload.get("action")
    return f"{title}, action {action}" if action else title


def apply_catch_up(
    session: Session, ctx: NoticeContext, planned: Sequence[PlannedDelivery]
) -> list[PlannedDelivery]:
    """The reminder proposals with the catch-up and digest-day rules applied."""
    if ctx.channel is None:
        return list(planned)  # nowhere to summarise: every notice goes as it is
    since = catch_up_since(ctx.partnership)
    window_open = since is not None and since <= ctx.now < since + dt.timedelta(
        days=ctx.policy.overdue_every_days
    )
    digest_day = _DigestDay(session, ctx)
    kept: list[PlannedDelivery] = []
    caught: dict[tuple[int, str, str], PlannedDelivery] = {}
    for p in planned:
        if p.kind == "overdue" and window_open and since is not None and p.occurrence <= since:
            if p.objective_id is not None:
                due, action = str(p.payload.get("due_on")), str(p.payload.get("action") or "")
                caught.setdefault((p.objective_id, due, action), p)
            continue
        if p.kind == "overdue" and p.target == ctx.channel and digest_day.lists(p):
            continue  # the digest lists it
        kept.append(p)
    if not caught or since is None:
        return kept
    if held_for_working_hours(since, ctx.now, ctx.policy, ctx.zone, ctx.cal):
        return kept
    if _digest_covers(session, ctx, since):
        return kept
    items = [
        {"objective_id": oid, "due_on": due, "title": _named(p)}
        for (oid, due, _), p in sorted(caught.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    stamp = since.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    kept.append(
        PlannedDelivery(
            key=f"catchup:p{ctx.partnership.id}:{stamp}:{ctx.channel}",
            kind="overdue_summary",
            target=ctx.channel,
            occurrence=since,
            payload={"items": items},
            useful_until=since + dt.timedelta(days=ctx.policy.overdue_every_days),
        )
    )
    return kept


def render_summary(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    """The summary of the items still overdue; None when every one has been dealt with."""
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.slack.catch_up import (
        CatchUpItem,
        CatchUpView,
        build_catch_up_blocks,
        catch_up_text,
    )

    found: list[CatchUpItem] = []
    policy = None
    today = None
    for raw in delivery.payload.get("items") or []:
        objective = objective_by_id(session, int(raw["objective_id"]))
        if objective is None or objective.status != ObjectiveStatus.OPEN:
            continue
        partnership = objective.partnership
        policy = policy or policy_for(partnership)
        today = today or local_date(now, ZoneInfo(partnership.timezone))
        due = dt.date.fromisoformat(str(raw["due_on"]))
        facts = progress_facts(session, partnership, [objective.id])
        late = overdue_items(
            objective,
            today,
            facts.done_days.get(objective.id, ()),
            policy,
            partnership_calendar(partnership),
        )
        if any(o.due_on == due for o in late):
            found.append(CatchUpItem(objective.id, objective.title, due))
    if not found or policy is None or today is None:
        return None
    view = CatchUpView(tuple(found), today, policy.overdue_every_days)
    return OutboundMessage(text=catch_up_text(view), blocks=build_catch_up_blocks(view))
