"""The unit of work's cache of who is asking: read again together once its time runs out."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.members import resolve_actor
from bot.settings import Settings
from handlers.actor_cache import ActorCache
from store.db import session_scope
from store.models import Member, Partnership, Role
from tests.conftest import NOW


class _Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_lapsed_people_are_read_again_in_one_query_and_a_new_role_is_seen(
    plan_ctx: AppContext,
    session: Session,
    partnership: Partnership,
    plan_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    cache = ActorCache()
    for user in ("U0ONE", "U0TWO", "U0THREE"):
        actor = resolve_actor(session, partnership, user, now=NOW, display_name=user.lower())
        cache.put((user, user.lower()), actor, readcache.validity())
    session.commit()
    with session_scope(plan_ctx.sessions) as other:  # another process makes one an admin
        other.execute(update(Member).where(Member.slack_user_id == "U0TWO").values(role="admin"))
    clock.at += readcache.TTL_SECONDS + 0.1
    assert cache.get(("U0TWO", "u0two")) is None and cache.lapsed(("U0TWO", "u0two"))

    reads: list[str] = []

    @event.listens_for(plan_ctx.engine, "before_cursor_execute")
    def _note(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if "FROM member" in statement:
            reads.append(statement)

    p = session.scalars(select(Partnership)).one()
    two = cache.refresh(session, p, plan_settings, ("U0TWO", "u0two"))
    assert two is not None and two.role == Role.ADMIN
    one = cache.get(("U0ONE", "u0one"))
    assert one is not None and one.role == Role.MEMBER
    assert cache.get(("U0THREE", "u0three")) is not None
    assert len(reads) == 1


def test_when_the_partnership_copy_times_out_one_request_reads_it_and_the_rest_wait_for_none(
    plan_ctx: AppContext,
    session: Session,
    partnership: Partnership,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    from typing import Any

    from handlers.units import Units

    session.commit()
    clock = _Clock()
    monkeypatch.setattr(readcache, "monotonic", clock)
    units = Units(plan_ctx)

    def unit() -> Any:
        return units.open(_Context(), {"user_id": "U0ONE"})

    assert unit().read_partnership.id  # the first use writes the settings' bootstrap once
    first = unit().read_partnership
    assert unit().read_partnership is first  # kept while valid
    clock.at += readcache.TTL_SECONDS + 0.1
    reading, release = threading.Event(), threading.Event()
    real = Units._partnership

    def slow(self: Units, s: Session, now: Any) -> Partnership:
        reading.set()
        release.wait(5)
        return real(self, s, now)

    monkeypatch.setattr(Units, "_partnership", slow)
    fresh: list[Partnership] = []
    reader = threading.Thread(target=lambda: fresh.append(unit().read_partnership))
    reader.start()
    assert reading.wait(5)
    # Meanwhile another request is answered with the copy it had, without waiting.
    assert unit().read_partnership is first
    release.set()
    reader.join(5)
    assert fresh and fresh[0] is not first and fresh[0].id == first.id
    assert unit().read_partnership is fresh[0]
    # After a write in this process nobody is given the old copy: they wait for the new.
    readcache.invalidate()
    monkeypatch.setattr(Units, "_partnership", real)
    after = unit().read_partnership
    assert after is not fresh[0] and after.id == first.id


class _Context(dict):  # type: ignore[type-arg]
    user_id = "U0ONE"
