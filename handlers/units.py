"""The app's units: what its requests share, and the middleware that opens each request's.

:class:`Units` makes each request's :class:`~handlers.uow.Unit` and keeps, for the
whole app, the partnership's id, a read-only copy of it and recently resolved
actors; :func:`install_units` puts it on the app as a global middleware that touches
no database; :func:`warm_up` reads before serving what the first requests would.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.members import ensure_partnership
from bot.plan.progress_batch import prepare as prepare_batches
from handlers.actor_cache import ActorCache
from handlers.queries import partnership_by_id
from handlers.uow import UNIT_KEY, Unit, display_name, requester_id
from store.db import has_write_gate, open_pool, session_scope
from store.models import Partnership

log = logging.getLogger(__name__)


def read_only_copy(partnership: Partnership) -> Partnership:
    """A copy of ``partnership``'s columns attached to no session (nothing is saved
    from it)."""
    columns = sa_inspect(Partnership).column_attrs
    return Partnership(**{c.key: copy.deepcopy(getattr(partnership, c.key)) for c in columns})


class Units:
    """Makes each request's :class:`Unit` for one app, sharing what the app's requests
    may share: the partnership's id (its settings bootstrap is written once, by one
    request), a read-only copy of it and recently resolved actors."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._partnership_id: int | None = None
        self._first_use = threading.Lock()
        self._read_copy: tuple[Partnership, readcache.Validity] | None = None
        self._reading = threading.Lock()  # one request reads the partnership again at a time
        self.actors = ActorCache()

    def open(self, context: BoltContext, body: dict[str, Any]) -> Unit:
        """A unit for this request; no database work happens here."""
        return Unit(
            self.ctx,
            self.ctx.clock.now(),
            self._partnership,
            requester_id(body, context),
            display_name(body),
            read_partnership=self._read_partnership,
            actors=self.actors,
        )

    def warm(self) -> None:
        """Open the database's pooled connections, and read now what every request
        reads first: the partnership (its settings written once), its read copy and its
        plan, and what the first batch of progress updates reads before it writes.
        Called at start-up, so the first people to ask are answered as quickly as those
        after them, not made to wait together for one request reading the plan."""
        unit = Unit(
            self.ctx,
            self.ctx.clock.now(),
            self._partnership,
            None,
            None,
            read_partnership=self._read_partnership,
            actors=self.actors,
        )
        open_pool(self.ctx.engine)
        try:
            unit.objective_choices()
            if has_write_gate(self.ctx.engine):  # updates are saved in batches (SQLite)
                prepare_batches(unit.session, unit.read_partnership)
        except BaseException:
            unit.finish(failed=True)
            raise
        unit.finish(failed=False)

    def _partnership(self, session: Session, now: dt.datetime) -> Partnership:
        if self._partnership_id is not None:
            found = partnership_by_id(session, self._partnership_id)
            if found is not None:
                return found
        # The settings bootstrap is written once, by one request, in its own unit.
        with self._first_use, session_scope(self.ctx.sessions) as setup:
            setup.info["clock"] = self.ctx.clock
            if self._partnership_id is None:
                self._partnership_id = ensure_partnership(setup, self.ctx.settings, now=now).id
        found = partnership_by_id(session, self._partnership_id)
        if found is None:
            raise RuntimeError("the partnership vanished while starting up")
        return found

    def _read_partnership(self, unit: Unit) -> Partnership:
        hit = self._read_copy
        if hit is not None and readcache.still_valid(hit[1]):
            return hit[0]
        # Only its time ran out (nothing was written here since): while one request
        # reads it again, the others keep the copy they had instead of all reading it.
        timed_out = hit is not None and hit[1][1] == readcache.generation()
        if not self._reading.acquire(blocking=not timed_out):
            assert hit is not None
            return hit[0]
        try:
            again = self._read_copy
            if again is not None and again is not hit and readcache.still_valid(again[1]):
                return again[0]
            checked = readcache.validity()
            fresh = read_only_copy(unit.partnership)
            self._read_copy = (fresh, checked)
            return fresh
        finally:
            self._reading.release()


def install_units(app: App, ctx: AppContext) -> None:
    """Give every request on ``app`` its unit of work (a global middleware that
    touches no database: the unit opens its session when a listener first needs it,
    and :func:`unit_of_work` ends it)."""
    units = Units(ctx)
    _UNITS[app] = units
    app.use(_OpenUnits(units))


_UNITS: weakref.WeakKeyDictionary[App, Units] = weakref.WeakKeyDictionary()


def warm_up(app: App) -> None:
    """Before serving: read what the first requests would (see :meth:`Units.warm`).
    A failure is logged and the app serves anyway (its requests read it themselves)."""
    units = _UNITS.get(app)
    if units is None:
        return
    try:
        units.warm()
    except Exception as exc:
        log.warning(
            "Could not read the plan before serving (%s); serving anyway.", type(exc).__name__
        )


class _OpenUnits(Middleware):
    """Opens each request's unit (a Bolt middleware object: called with the request
    itself, so it costs no argument matching on every request)."""

    def __init__(self, units: Units) -> None:
        self.units = units

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        req.context[UNIT_KEY] = self.units.open(req.context, req.body)
        return next()
