"""How an objective's several actions stand, in words: "1 of 3 actions done; action 2 red"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from bot.plan import readcache
from bot.plan.snapshot import ObjectiveSnap
from store.models import Partnership


def how_actions_stand(actions: Sequence[tuple[str, str | None]]) -> str:
    """The words for an objective's actions, given each one's (status, RAG) in order:
    how many are done (or waived), then the numbers of the open ones that are red, then
    amber. Green and unrated open actions go unsaid."""
    closed = sum(1 for status, _ in actions if status != "open")
    parts = [f"{closed} of {len(actions)} actions done"]
    for rag in ("red", "amber"):
        numbers = [
            str(number)
            for number, (status, found) in enumerate(actions, start=1)
            if status == "open" and found == rag
        ]
        if numbers:
            which = "action" if len(numbers) == 1 else "actions"
            listed = (
                numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"
            )
            parts.append(f"{which} {listed} {rag}")
    return "; ".join(parts)


def standings_of(objectives: Iterable[ObjectiveSnap]) -> dict[int, str]:
    """:func:`how_actions_stand` for each objective with several actions, by its id."""
    return {
        o.id: how_actions_stand([(a.status, a.rag) for a in o.actions])
        for o in objectives
        if len(o.actions) > 1
    }


def action_standings(session: Session, partnership: Partnership) -> dict[int, str]:
    """:func:`standings_of` the current plan (from the plan snapshot, once per snapshot)."""
    snap = readcache.plan_snapshot(session, partnership.id, partnership.plan_year)
    return snap.memo("action_standings", lambda: standings_of(snap.objectives))
