"""The request's unit of work: one lazy session, the partnership and who is asking.

Every request gets a :class:`Unit` from a global middleware (see
:mod:`handlers.units`; it touches no database), and listeners read it with
:func:`unit_of`. The unit opens its session,
loads the partnership and resolves the acting member only when a listener first
asks, so a request that needs none of them costs no database work, and resolving a
member writes only when the member is new or their name changed. Each listener is
registered through :func:`unit_of_work`, which commits the session when the
listener has finished (after the ack when it runs on Bolt's executor) and rolls it
back if the listener failed, before Bolt's error handler answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.errors import UserError
from bot.plan import readcache
from bot.plan.members import Actor, resolve_actor, unstored_actor
from bot.plan.reading import ActionChoices, action_choices, objective_choices
from bot.plan.years import local_today
from handlers.actor_cache import ActorCache
from store.db import bounded_waits
from store.models import Partnership

log = logging.getLogger(__name__)

UNIT_KEY = "csp_unit"  # where the request context holds its unit
# How long a listener's writes may wait for the database's lock: Slack wants an answer
# within 3 seconds, and the reply still has to be built and sent after the wait.
WRITE_WAIT_SECONDS = 1.5

P = ParamSpec("P")
R = TypeVar("R")


class Unit:
    """What a listener works with: one session, the partnership and who is asking.

    Each is made on first use, in the listener's own thread; :meth:`finish` ends
    the session if one was opened.
    """

    def __init__(
        self,
        ctx: AppContext,
        now: dt.datetime,
        load_partnership: Callable[[Session, dt.datetime], Partnership],
        user_id: str | None,
        display_name: str | None,
        *,
        read_partnership: Callable[[Unit], Partnership] | None = None,
        actors: ActorCache | None = None,
    ) -> None:
        self.ctx = ctx
        self.now = now
        self._load_partnership = load_partnership
        self._load_read_partnership = read_partnership
        self._actors = actors
        self._user_id = user_id
        self._display_name = display_name
        # Someone new found by actor_unwritten: (cache key, actor, when read).
        self._newcomer: tuple[tuple[str, str | None], Actor, readcache.Validity] | None = None
        self._session: Session | None = None
        self._partnership: Partnership | None = None
        self._read_partnership: Partnership | None = None
        self._actor: Actor | None = None
        self._resolved = False
        self.committed = False  # set once this request saved something
        self._choices: Sequence[tuple[int, str]] | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            session = self.ctx.sessions()
            session.info["clock"] = self.ctx.clock
            self._session = session
        return self._session

    def action_choices(self) -> ActionChoices:
        """(number, text) of the actions of each objective that has several, by id."""
        return action_choices(self.session, self.read_partnership)

    def objective_choices(self) -> Sequence[tuple[int, str]]:
        """(id, title) of this plan year's objectives, read once a request (matching a
        typed objective asks for them more than once)."""
        if self._choices is None:
            self._choices = objective_choices(self.session, self.read_partnership)
        return self._choices

    @property
    def partnership(self) -> Partnership:
        if self._partnership is None:
            self._partnership = self._load_partnership(self.session, self.now)
        return self._partnership

    @property
    def read_partnership(self) -> Partnership:
        """The partnership for reading only (id, plan year, zone, settings): a copy kept
        per app for :data:`bot.plan.readcache.TTL_SECONDS` and until the next write in this
        process, attached to no session. Change the partnership through
        :attr:`partnership`."""
        if self._partnership is not None:
            return self._partnership
        if self._read_partnership is None:
            if self._load_read_partnership is None:
                return self.partnership
            self._read_partnership = self._load_read_partnership(self)
        return self._read_partnership

    @property
    def actor(self) -> Actor | None:
        if not self._resolved:
            if self._user_id:
                key = (self._user_id, self._display_name)
                cached = self._cached_actor(key)
                if cached is not None:
                    self._actor = cached
                else:
                    checked = readcache.validity()
                    self._actor = resolve_actor(
                        self.session,
                        self.read_partnership,
                        self._user_id,
                        now=self.now,
                        display_name=self._display_name,
                        settings=self.ctx.settings,
                    )
                    if self._actors is not None and not readcache.has_pending_writes(self.session):
                        # Only a member already stored as they are: a new member's row
                        # could still be rolled back.
                        self._actors.put(key, self._actor, checked)
            self._resolved = True
        return self._actor

    def _cached_actor(self, key: tuple[str, str | None]) -> Actor | None:
        """The app's cached actor for ``key``; when the cache's time ran out, every
        member it holds is read again at once."""
        if self._actors is None:
            return None
        cached = self._actors.get(key)
        if cached is None and self._actors.lapsed(key):
            cached = self._actors.refresh(
                self.session, self.read_partnership, self.ctx.settings, key
            )
        return cached

    def actor_unwritten(self) -> tuple[Actor, bool] | None:
        """Who is asking without writing anything: (their actor, whether they are new
        to the partnership, so their member row is still to be made), or None when
        resolving them must write (their stored name changes) or they cannot be told."""
        if self._resolved or not self._user_id:
            return (self._actor, False) if self._actor is not None else None
        key = (self._user_id, self._display_name)
        cached = self._cached_actor(key)
        if cached is not None:
            self._actor, self._resolved = cached, True
            return cached, False
        checked = readcache.validity()
        found = unstored_actor(
            self.session,
            self.read_partnership,
            self._user_id,
            self._display_name,
            settings=self.ctx.settings,
        )
        if found is not None and not found[1]:
            self._actor, self._resolved = found[0], True
            if self._actors is not None:
                self._actors.put(key, found[0], checked)
        elif found is not None:
            self._newcomer = (key, found[0], checked)
        return found

    def member_saved(self) -> None:
        """The newcomer :meth:`actor_unwritten` found has been made a member (by the
        batch that saved their update, committed): their next request finds them in
        the app's cache instead of asking the database again."""
        if self._newcomer is None:
            return
        key, actor, checked = self._newcomer
        self._newcomer = None
        self._actor, self._resolved = actor, True
        if self._actors is not None:
            self._actors.put(key, actor, checked)

    @property
    def today(self) -> dt.date:
        return local_today(self.read_partnership, self.now)

    def override_actor(self, actor: Actor) -> None:
        """Act as ``actor`` for the rest of this request only (the local shell's admin);
        nothing is stored."""
        self._actor = actor
        self._resolved = True

    @property
    def me(self) -> Actor:
        actor = self.actor
        if actor is None:
            raise UserError("I could not tell who you are. Please try again from Slack.")
        return actor

    def has_pending_writes(self) -> bool:
        """Whether this request's session holds changes not yet committed."""
        return self._session is not None and readcache.has_pending_writes(self._session)

    def save_member(self) -> None:
        """Commit what resolving who is asking wrote (a new member's row, a changed
        name) and nothing else yet, so the request's own save can be made by another
        transaction. Nothing the person asked for is saved by it: :attr:`committed`
        stays as it was."""
        if self._session is not None:
            self._session.commit()

    def commit(self) -> None:
        """Save this request's changes now (before answering, so a confirmation is
        never sent for a change that was not saved, and no lock is held while the
        listener goes on to call Slack)."""
        if self._session is not None:
            if _has_work(self._session):
                self._session.commit()
            self.committed = True

    def finish(self, *, failed: bool) -> None:
        """Commit (or roll back after a failure) and close the session, if opened."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if failed:
                session.rollback()
            elif _has_work(session):
                session.commit()
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("could not save a request's changes (reference %s)", reference)
            session.rollback()
        finally:
            session.close()


def _has_work(session: Session) -> bool:
    """Whether committing ``session`` would do anything: it began a transaction (it read
    or wrote) or holds objects not yet flushed. Committing a session that did neither
    would only begin a transaction to end it."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def unit_of(context: BoltContext) -> Unit:
    """The unit of work the middleware opened for this request."""
    unit = context.get(UNIT_KEY)
    if not isinstance(unit, Unit):
        raise RuntimeError("no unit of work: was the app built with build_app()?")
    return unit


def request_unit(context: BoltContext) -> Unit | None:
    """This request's unit of work, if it has one (for the error handler)."""
    unit = context.get(UNIT_KEY)
    return unit if isinstance(unit, Unit) else None


def unit_of_work(listener: Callable[P, R]) -> Callable[P, R]:
    """Wrap a listener (which must take ``context``) so that its request's unit of
    work ends when it returns: committed, or rolled back if it raised (then Bolt's
    error handler answers). Apply it to every listener registered on the app."""
    if "context" not in inspect.signature(listener).parameters:
        raise TypeError(f"{listener.__name__} must take `context` to run in a unit of work")

    @functools.wraps(listener)  # Bolt reads the wrapped listener's argument names
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        context = kwargs["context"]
        unit = request_unit(context) if isinstance(context, BoltContext) else None
        # A write that cannot have the database's lock in time gives up (DatabaseBusy),
        # so the request is rolled back and answered before Slack's 3 seconds run out.
        with bounded_waits(WRITE_WAIT_SECONDS):
            try:
                result = listener(*args, **kwargs)
            except BaseException:
                if unit is not None:
                    unit.finish(failed=True)
                raise
            if unit is not None:
                unit.finish(failed=False)
        return result

    return run


def requester_id(body: dict[str, Any], context: BoltContext) -> str | None:
    """The Slack user a request comes from, if it says."""
    if context.user_id:
        return context.user_id
    user = body.get("user")
    if isinstance(user, dict):
        found = user.get("id")
        return str(found) if found else None
    return None


def display_name(body: dict[str, Any]) -> str | None:
    if "user_name" in body:
        return str(body["user_name"])
    user = body.get("user")
    if isinstance(user, dict):
        name = user.get("name") or user.get("username")
        return str(name) if name else None
    return None
