"""The app's announcer (:mod:`scheduler.delivery.announcer`): one per context, woken on commit."""

from __future__ import annotations

import logging
import threading
import weakref

from slack_sdk import WebClient

from bot.context import AppContext
from scheduler.delivery.announcer import Announcer

_ANNOUNCERS: weakref.WeakKeyDictionary[AppContext, Announcer] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def install_announcer(ctx: AppContext, client: WebClient) -> Announcer:
    """The announcer for ``ctx``, made with ``client`` the first time it is asked for."""
    with _LOCK:
        announcer = _ANNOUNCERS.get(ctx)
        if announcer is None:
            announcer = Announcer(ctx.sessions, client, clock=ctx.clock)
            _ANNOUNCERS[ctx] = announcer
        return announcer


def announcer_of(ctx: AppContext) -> Announcer | None:
    return _ANNOUNCERS.get(ctx)


def wake_announcer(ctx: AppContext, client: WebClient, channel: str | None = None) -> None:
    """Queued channel posts (for ``channel``, when given) were just committed: have them
    posted (never blocks, never raises: the rows are saved, and the next sweep posts them
    if this fails)."""
    try:
        install_announcer(ctx, client).poke(channel)
    except Exception:
        log.exception("could not wake the announcer; the next sweep posts the queued updates")
