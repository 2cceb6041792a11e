"""The process's shared objects, built once by the entry point and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.settings import Settings
from store.db import make_engine, make_session_factory, upgrade


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)


def build_context(
    settings: Settings, *, clock: Clock | None = None, migrate: bool = True
) -> AppContext:
    """Open the database (upgrading its schema unless told not to) and bundle the shared objects."""
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or SystemClock(),
    )
