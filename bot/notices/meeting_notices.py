"""Meeting notices: the week-before and on-the-day notices, the set-a-date prompt, renderers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy.orm import Session

from bot.deliveries import OutboundMessage, PlannedDelivery
from bot.notices.notice_policy import NoticeContext, held, live
from bot.notices.queries import meeting_by_id, partnership_by_id
from bot.plan.years import local_date
from bot.time.policy import meeting_notices, set_date_prompt
from store.models import Delivery, Meeting


def meeting_plans(
    ctx: NoticeContext, meeting: Meeting, owners: list[str], admins: list[str]
) -> Iterator[PlannedDelivery]:
    """The notice live at ``ctx.now`` for one meeting: its date coming up (channel first,
    then the linked objective's owners), or the admins' prompt to set a date."""
    if meeting.meeting_date is None:
        notice = set_date_prompt(meeting.month, ctx.policy, ctx.zone, ctx.cal)
        if not (
            notice.at <= ctx.now and (notice.useful_until is None or ctx.now < notice.useful_until)
        ) or held(ctx, notice):
            return
        targets = admins or ([ctx.channel] if ctx.channel else [])
        for target in targets:
            yield PlannedDelivery(
                key=f"meet:m{meeting.id}:{meeting.month.isoformat()}:set_date:{target}",
                kind="meeting_set_date",
                target=target,
                occurrence=notice.at,
                meeting_id=meeting.id,
                payload={"body": meeting.body, "month": meeting.month.isoformat()},
                useful_until=notice.useful_until,
            )
        return
    notices = meeting_notices(
        meeting.meeting_date, meeting.start_time, ctx.policy, ctx.zone, ctx.cal
    )
    found = live(notices, ctx.now)
    if found is None or held(ctx, found):
        return
    targets = ([ctx.channel] if ctx.channel else []) + [o for o in owners if o != ctx.channel]
    for target in targets:
        yield PlannedDelivery(
            key=f"meet:m{meeting.id}:{meeting.meeting_date.isoformat()}:{found.stage}:{target}",
            kind="meeting",
            target=target,
            occurrence=found.at,
            meeting_id=meeting.id,
            objective_id=meeting.objective_id,
            payload={
                "body": meeting.body,
                "stage": found.stage,
                "meeting_date": meeting.meeting_date.isoformat(),
            },
            useful_until=found.useful_until,
        )


def render_meeting(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    """A meeting notice; None when the meeting is gone, undated or moved since."""
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.slack.meeting_notices import (
        MeetingNoticeView,
        build_meeting_notice_blocks,
        meeting_text,
    )

    meeting = meeting_by_id(session, delivery.meeting_id) if delivery.meeting_id else None
    if meeting is None or meeting.meeting_date is None:
        return None
    if meeting.meeting_date.isoformat() != delivery.payload.get("meeting_date"):
        return None  # moved since this notice was planned; the new date has its own
    partnership = partnership_by_id(session, meeting.partnership_id)
    assert partnership is not None
    view = MeetingNoticeView(
        stage=str(delivery.payload.get("stage", "")),
        meeting_id=meeting.id,
        body=meeting.body,
        meeting_date=meeting.meeting_date,
        today=local_date(now, partnership.timezone),
        start_time=meeting.start_time,
        place=meeting.place,
        papers_due=meeting.papers_due,
        objective_id=meeting.objective_id,
        objective_title=meeting.objective.title if meeting.objective else None,
        late=delivery.late,
    )
    return OutboundMessage(text=meeting_text(view), blocks=build_meeting_notice_blocks(view))


def render_set_date(
    session: Session, delivery: Delivery, now: dt.datetime
) -> OutboundMessage | None:
    """The prompt to date a meeting; None once it has a date (or is gone)."""
    # Block Kit loads slack_sdk: imported only when there is something to post.
    from bot.slack.meeting_notices import SetDatePromptView, build_set_date_blocks, set_date_text

    meeting = meeting_by_id(session, delivery.meeting_id) if delivery.meeting_id else None
    if meeting is None or meeting.meeting_date is not None:
        return None
    partnership = partnership_by_id(session, meeting.partnership_id)
    assert partnership is not None
    view = SetDatePromptView(
        meeting_id=meeting.id,
        body=meeting.body,
        month=meeting.month,
        today=local_date(now, partnership.timezone),
        late=delivery.late,
    )
    return OutboundMessage(text=set_date_text(view), blocks=build_set_date_blocks(view))
