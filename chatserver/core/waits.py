"""How long a waiting shopper can expect to wait."""

from __future__ import annotations

from collections import deque
from statistics import fmean


class WaitEstimator:
    """Estimates a queue wait from how long recent conversations waited per queue place."""

    def __init__(self, default_s: float = 30.0, window: int = 50) -> None:
        self._default_s = default_s
        self._per_place: deque[float] = deque(maxlen=window)

    def record(self, waited_s: float, position_when_queued: int = 1) -> None:
        """A conversation waited this long from the given place in the queue."""
        self._per_place.append(max(0.0, waited_s) / max(1, position_when_queued))

    def estimate(self, position: int, agents_online: int) -> float | None:
        """Seconds the conversation at ``position`` (1 = next) can expect to wait; None: unknown."""
        if agents_online == 0:
            return None
        per_place = fmean(self._per_place) if self._per_place else self._default_s
        return round(position * per_place / agents_online, 1)
