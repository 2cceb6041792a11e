"""The unit of work's cache of who is asking: read again together once its time runs out."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from bot.context import AppContext
from bot.plan import readcache
from bot.plan.members import resolve_actor
from bot.settings import Settings
from handlers.uow import ActorCache
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
