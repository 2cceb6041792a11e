"""Who asked recently, per app: kept while the plan's cache rule trusts it, read again together."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from bot.plan import readcache
from bot.plan.members import Actor, stored_actors
from bot.settings import Settings
from store.models import Partnership


class ActorCache:
    """Actors resolved recently in this app, trusted while
    :func:`bot.plan.readcache.still_valid` (under the TTL, no write committed here since)."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
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

    def lapsed(self, key: tuple[str, str | None]) -> bool:
        """Whether ``key`` was cached and is no longer trusted."""
        with self._lock:
            return key in self._found

    def refresh(
        self,
        session: Session,
        partnership: Partnership,
        settings: Settings,
        key: tuple[str, str | None],
    ) -> Actor | None:
        """Read every cached member again with one query (those stored as they are stay
        cached, checked now) and return ``key``'s actor if it is among them. One thread
        reads; the others arriving meanwhile take what it read."""
        with self._refreshing:
            hit = self.get(key)
            if hit is not None or readcache.has_pending_writes(session):
                return hit
            checked = readcache.validity()
            with self._lock:
                asking = dict(self._found)
            names: dict[str, str | None] = {user: name for user, name in asking}
            fresh = stored_actors(session, partnership, names, settings=settings)
            with self._lock:
                for wanted in asking:
                    actor = fresh.get(wanted[0])
                    if actor is not None and wanted[1] == names[wanted[0]]:
                        self._found[wanted] = (actor, checked)
                    else:
                        self._found.pop(wanted, None)
        return self.get(key)
