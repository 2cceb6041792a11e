"""The Bolt app factory: client, one unit of work per request, one error handler.

No App exists at import time: :func:`build_app` makes one for a context. Every
request gets a :class:`Unit` (set up by a global middleware, which touches no
database), which listeners read with :func:`unit_of`. The unit opens its session,
loads the partnership and resolves the acting member only when a listener first
asks, so a request that needs none of them costs no database work, and resolving a
member writes only when the member is new or their name changed. The session
commits when the listener has finished (after the ack when Bolt runs listeners in
the background) and rolls back if the listener failed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.errors import UsageError, UserError
from bot.plan import readcache
from bot.plan.members import Actor, ensure_partnership, resolve_actor
from bot.plan.years import local_today
from bot.settings import Settings
from bot.slack.blocks import build_message_modal
from bot.text.mrkdwn import esc
from store.db import session_scope
from store.models import Partnership

log = logging.getLogger(__name__)

_UNIT = "csp_unit"
_FAILED = "csp_failed"
LISTENER_THREADS = 32


def make_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A Web API client for SLACK_API_URL that waits out 429s (Retry-After)."""
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    client = WebClient(base_url=settings.slack_api_url, token=token, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


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
        self._session: Session | None = None
        self._partnership: Partnership | None = None
        self._read_partnership: Partnership | None = None
        self._actor: Actor | None = None
        self._resolved = False
        self.committed = False  # set once this request saved something

    @property
    def session(self) -> Session:
        if self._session is None:
            session = self.ctx.sessions()
            session.info["clock"] = self.ctx.clock
            self._session = session
        return self._session

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
                cached = self._actors.get(key) if self._actors is not None else None
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

    def commit(self) -> None:
        """Save this request's changes now (before answering, so a confirmation is
        never sent for a change that was not saved, and no lock is held while the
        listener goes on to call Slack)."""
        if self._session is not None:
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
            else:
                session.commit()
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("could not save a request's changes (reference %s)", reference)
            session.rollback()
        finally:
            session.close()


class ActorCache:
    """Actors resolved recently in this app, trusted while
    :func:`bot.plan.readcache.still_valid` (under the TTL, no write committed here since)."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[tuple[str, str | None], tuple[Actor, readcache.Validity]] = {}

    def get(self, key: tuple[str, str | None]) -> Actor | None:
        with self._lock:
            hit = self._found.get(key)
        return hit[0] if hit is not None and readcache.still_valid(hit[1]) else None

    def put(self, key: tuple[str, str | None], actor: Actor, checked: readcache.Validity) -> None:
        with self._lock:
            if len(self._found) >= self.LIMIT:
                self._found.clear()
            self._found[key] = (actor, checked)


def read_only_copy(partnership: Partnership) -> Partnership:
    """A copy of ``partnership``'s columns attached to no session (nothing is saved
    from it)."""
    columns = sa_inspect(Partnership).column_attrs
    return Partnership(**{c.key: copy.deepcopy(getattr(partnership, c.key)) for c in columns})


def unit_of(context: BoltContext) -> Unit:
    """The unit of work the middleware opened for this request."""
    unit = context.get(_UNIT)
    if not isinstance(unit, Unit):
        raise RuntimeError("no unit of work: was the app built with build_app()?")
    return unit


class _FinishUnit(ListenerCompletionHandler):
    """Ends the request's unit of work once its listener has run (ack or not):
    commit, or roll back if the error handler saw a failure."""

    def __init__(self, inner: ListenerCompletionHandler) -> None:
        self.inner = inner

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        unit = request.context.get(_UNIT)
        if isinstance(unit, Unit):
            unit.finish(failed=bool(request.context.get(_FAILED)))
        self.inner.handle(request, response)


class _QuietTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when it is given
    a client; the client carries that same token, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("csp.bolt")
    if not any(isinstance(f, _QuietTokenWarning) for f in logger.filters):
        logger.addFilter(_QuietTokenWarning())
    return logger


def _user_id(body: dict[str, Any], context: BoltContext) -> str | None:
    if context.user_id:
        return context.user_id
    user = body.get("user")
    if isinstance(user, dict):
        found = user.get("id")
        return str(found) if found else None
    return None


def _display_name(body: dict[str, Any]) -> str | None:
    if "user_name" in body:
        return str(body["user_name"])
    user = body.get("user")
    if isinstance(user, dict):
        name = user.get("name") or user.get("username")
        return str(name) if name else None
    return None


def _kind_reply(error: Exception) -> str:
    if isinstance(error, UsageError):
        usage = esc(error.usage)
        return f"{error}\nUsage: `{usage}`\nType `/csp help` to see every command."
    return f"{error}\nType `/csp help` if you need the list of commands."


def build_app(
    ctx: AppContext,
    *,
    client: WebClient | None = None,
    process_before_response: bool = False,
    signing_secret: str | None = None,
    verify_token: bool = False,
) -> App:
    """A Bolt app for ``ctx`` with every handler module registered.

    ``client`` defaults to :func:`make_client`. ``signing_secret`` defaults to
    SLACK_SIGNING_SECRET. ``verify_token`` calls auth.test at start (Socket Mode).
    """
    settings = ctx.settings
    client = client or make_client(settings)
    if signing_secret is None and settings.slack_signing_secret is not None:
        signing_secret = settings.slack_signing_secret.get_secret_value()
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=True,
        token_verification_enabled=verify_token,
        process_before_response=process_before_response,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="csp-listener"
        ),
        logger=_bolt_logger(),
    )
    partnership_id: list[int] = []
    first_use = threading.Lock()

    def _partnership(session: Session, now: dt.datetime) -> Partnership:
        if partnership_id:
            found = session.get(Partnership, partnership_id[0])
            if found is not None:
                return found
        # The settings bootstrap is written once, by one request, in its own unit.
        with first_use, session_scope(ctx.sessions) as setup:
            setup.info["clock"] = ctx.clock
            if not partnership_id:
                partnership_id[:] = [ensure_partnership(setup, settings, now=now).id]
        found = session.get(Partnership, partnership_id[0])
        if found is None:
            raise RuntimeError("the partnership vanished while starting up")
        return found

    read_copy: list[tuple[Partnership, readcache.Validity]] = []

    def _read_partnership(unit: Unit) -> Partnership:
        hit = read_copy[0] if read_copy else None
        if hit is not None and readcache.still_valid(hit[1]):
            return hit[0]
        checked = readcache.validity()
        fresh = read_only_copy(unit.partnership)
        read_copy[:] = [(fresh, checked)]
        return fresh

    actors = ActorCache()

    runner = getattr(app, "_listener_runner", None)
    if runner is None or not hasattr(runner, "listener_completion_handler"):
        raise RuntimeError("this slack_bolt version has no listener completion hook")
    runner.listener_completion_handler = _FinishUnit(runner.listener_completion_handler)

    @app.use
    def unit_of_work(context: BoltContext, body: dict[str, Any], next: Callable[[], None]) -> None:
        """Give the request its unit of work. No database work happens here: the
        unit opens its session when the listener first needs it, and _FinishUnit
        commits or rolls back when the listener is done."""
        unit = Unit(
            ctx,
            ctx.clock.now(),
            _partnership,
            _user_id(body, context),
            _display_name(body),
            read_partnership=_read_partnership,
            actors=actors,
        )
        context[_UNIT] = unit
        next()

    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        context: BoltContext,
        request: BoltRequest,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        context[_FAILED] = True
        if isinstance(error, UserError):
            text = _kind_reply(error)
            log.debug("user error: %s", type(error).__name__)
        else:
            reference = secrets.token_hex(3)
            log.error("unexpected error (reference %s)", reference, exc_info=error)
            unit = context.get(_UNIT)
            saved = isinstance(unit, Unit) and unit.committed
            outcome = (
                "Part of it may already be saved, so check (for example with `/csp show` or "
                "`/csp referrals`) before trying again"
                if saved
                else "Nothing was saved. Please try again in a minute"
            )
            text = (
                f"Something went wrong on our side (reference {reference}). {outcome}; if it "
                "keeps happening, give your partnership admin this reference."
            )
        acked = context.ack is not None and context.ack.response is not None
        kind = body.get("type")
        if response is not None and not acked:
            if kind == "view_submission":
                payload: dict[str, Any] = {
                    "response_action": "update",
                    "view": build_message_modal("Sorry", text),
                }
                return _json_response(payload)
            if "command" in body:
                return _json_response({"response_type": "ephemeral", "text": text})
        _tell_later(client, body, context, text)
        if acked and context.ack is not None and context.ack.response is not None:
            # Work after the ack failed; if Bolt has not answered Slack yet, answer with
            # the ack that was given (otherwise Slack would see a 404 and an error).
            return context.ack.response
        if response is not None:
            return BoltResponse(status=200, body="")
        return None

    from handlers import register_all

    register_all(app, ctx)
    return app


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def _tell_later(client: WebClient, body: dict[str, Any], context: BoltContext, text: str) -> None:
    """Tell the user about an error when the request was already answered."""
    try:
        url = body.get("response_url") or context.response_url
        if url:
            WebhookClient(str(url)).send(
                text=text, response_type="ephemeral", replace_original=False
            )
            return
        user_id = _user_id(body, context)
        if not user_id or body.get("type") == "event_callback":
            return
        channel = context.channel_id
        if channel and not channel.startswith("D"):
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.exception("could not tell the user about an error")
