"""A clock moved to read a given instant now and running on from there (``sweep --now``)."""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock


class ShiftedClock:
    """``clock`` moved so that it reads ``at`` now; it runs on as ``clock`` runs.

    ``csp-bot sweep --now`` and tests pass an instant; time taken by the sweep still
    counts, so leases taken later in it are dated later.
    """

    def __init__(self, clock: Clock, at: dt.datetime) -> None:
        self._clock = clock
        self._offset = at - clock.now()

    def now(self) -> dt.datetime:
        return (self._clock.now() + self._offset).astimezone(dt.UTC)
