"""The handlers' own query: the partnership a request's unit of work loads by id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import Partnership


def partnership_by_id(session: Session, partnership_id: int) -> Partnership | None:
    """The partnership row with this id, from the session's identity map if loaded."""
    return session.get(Partnership, partnership_id)
