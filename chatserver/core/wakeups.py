"""One timer for the moments waiting conversations may go to any agent (their language's wait
is over): at each, the assigner dispatches again."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable

from chatserver.domain.clock import Clock


class Wakeups:
    """Calls ``wake`` at each time asked for, with one sleeping task however many are due.

    Args:
        clock: the clock the times are on.
        wake: what to call when a time has come (it should be cheap: it schedules a dispatch).
    """

    def __init__(self, clock: Clock, wake: Callable[[], None]) -> None:
        self.clock = clock
        self.wake = wake
        self._times: list[float] = []
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = float("inf")

    def at(self, when: float) -> None:
        """Wake at ``when`` (nothing if it has passed: the caller dispatches anyway)."""
        if when <= self.clock.now():
            return
        heapq.heappush(self._times, when)
        if when < self._timer_at:
            self._restart()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._times.clear()

    def _restart(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = self._times[0]
        self._timer = asyncio.get_running_loop().create_task(self._sleep())

    async def _sleep(self) -> None:
        await self.clock.sleep(self._timer_at - self.clock.now())
        now = self.clock.now()
        while self._times and self._times[0] <= now:
            heapq.heappop(self._times)
        self._timer, self._timer_at = None, float("inf")
        if self._times:
            self._restart()
        self.wake()
