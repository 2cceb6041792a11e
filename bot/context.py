"""The process's shared objects, built once by the entry point and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.referrals import audit, availability
from bot.settings import Settings
from store.db import make_engine, make_session_factory, session_scope
from store.schema import ensure_schema


@dataclass(eq=False)  # compared and hashed by identity: one per process or test
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    check_referral_key: bool = True,
) -> AppContext:
    """Open the database (upgrading its schema unless told not to) and bundle the shared
    objects. Commands that never read referral contents (the plan, the sweep) may skip
    the encryption key check."""
    engine = make_engine(settings.database_url)
    if migrate:
        ensure_schema(engine)
    sessions = make_session_factory(engine)
    audit.configure_keys(audit.keys_from(settings))
    availability.set_key(bool(settings.encryption_keys))
    # Stops start-up with one sentence if stored referrals cannot be read with the key.
    if check_referral_key:
        # Imported here so that commands that skip the check never load cryptography.
        from bot.referrals.crypto import verify_referral_key

        with session_scope(sessions) as session:
            verify_referral_key(session, settings.encryption_keys)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock or SystemClock(),
    )
