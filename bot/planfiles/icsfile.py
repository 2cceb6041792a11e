"""The calendar feed as an iCalendar file (RFC 5545), written with the icalendar library.

Deadlines are all-day events; meetings with a time are timed events in the
partnership's zone, whose VTIMEZONE is included (covering the feed's span).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.plan.feed import Feed, FeedEvent

if TYPE_CHECKING:
    from icalendar import Component

PRODID = "-//csp-bot//Community Safety Partnership calendar//EN"


def write_ics(feed: Feed, *, now: dt.datetime) -> bytes:
    """The feed as .ics bytes; ``now`` stamps every event (DTSTAMP)."""
    # icalendar is imported here: only the calendar commands and the feed use it.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", feed.name)
    calendar.add("x-wr-timezone", feed.zone)
    calendar.add_component(_timezone(feed.zone, feed.first, feed.last))
    stamp = now.astimezone(dt.UTC)
    for event in feed.events:
        calendar.add_component(_event(event, stamp))
    data: bytes = calendar.to_ical()
    return data


def _event(event: FeedEvent, stamp: dt.datetime) -> Component:
    from icalendar import Event

    out = Event()
    out.add("uid", event.uid)
    out.add("dtstamp", stamp)
    out.add("summary", event.summary)
    if event.starts is not None and event.ends is not None:
        out.add("dtstart", event.starts)
        out.add("dtend", event.ends)
    else:
        out.add("dtstart", event.day)
        out.add("dtend", event.day + dt.timedelta(days=1))
        out.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    if event.place:
        out.add("location", event.place)
    out.add("description", event.description)
    out.add("status", event.status)
    if event.done:
        out.add("categories", ["Done"])
    return out


@lru_cache(maxsize=16)
def _timezone_ical(zone: str, first: dt.date, last: dt.date) -> bytes:
    from icalendar import Timezone

    timezone = Timezone.from_tzinfo(ZoneInfo(zone), tzid=zone, first_date=first, last_date=last)
    data: bytes = timezone.to_ical()
    return data


def _timezone(zone: str, first: dt.date, last: dt.date) -> Component:
    from icalendar import Timezone

    # Working out a zone's transitions is the slow part: done once per span.
    return Timezone.from_ical(_timezone_ical(zone, first, last))
