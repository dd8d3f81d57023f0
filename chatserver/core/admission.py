"""Admission control: under overload, refuse new shopper messages, never agent frames.

Two measures of the backlog. The shopper messages being stored now (admitted, not yet
acknowledged): at most ``max_in_flight`` at a time, so the store's commit queue, and the wait in
it, stay bounded whatever is offered. And the event loop's lag (how late a short timer fires):
each sample over the bound, once ``SUSTAINED`` came in a row, cuts the share of shopper messages
admitted; the share grows back by itself, linearly over ``recover_s`` on the clock. So the hub
recovers when the load drops. Refused messages are stored nowhere; the client is told
``overloaded`` with a hint of when to send the same message again. Agent frames are always
admitted: replies to chats already open are served first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from chatserver.domain.clock import Clock
from chatserver.domain.errors import Overloaded

CUT = 0.8  # the admitted share is multiplied by this for each lag sample over the bound
FLOOR = 0.2  # the share never drops below this: some shoppers always get through
PROBE_S = 0.02  # how often the loop's lag is sampled
SUSTAINED = 3  # samples over the bound in a row before the share is cut (one GC pause is not load)


_BUSY = "the chat is very busy right now: this message was not sent; sending it again shortly"


class Admission:
    """Decides, per shopper message, whether the hub takes it now."""

    def __init__(
        self, clock: Clock, max_lag_s: float, max_in_flight: int = 0, recover_s: float = 2.0
    ) -> None:
        self.clock = clock
        self.max_lag_s = max_lag_s
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.recover_s = recover_s
        self.lag_s = 0.0
        self.refused = 0
        self._share, self._at = 1.0, clock.now()
        self._credit = 0.0
        self._over = 0

    def share(self) -> float:
        """The share of shopper messages admitted now (1.0: all)."""
        return min(1.0, self._share + (self.clock.now() - self._at) / self.recover_s)

    def observe(self, lag_s: float) -> None:
        """One sample of the event loop's lag, in seconds."""
        self.lag_s = lag_s
        self._over = self._over + 1 if self.max_lag_s and lag_s > self.max_lag_s else 0
        if self._over >= SUSTAINED:
            self._share, self._at = max(FLOOR, self.share() * CUT), self.clock.now()

    def retry_after_ms(self) -> int:
        """When a refused client should try again: about when the share is back to full."""
        return max(200, round(1000 * (1.0 - self.share()) * self.recover_s))

    @contextmanager
    def shopper_message(self, client_id: str | None = None) -> Iterator[None]:
        """Around storing one shopper message: raises Overloaded when it is not taken now."""
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            self.refused += 1
            raise Overloaded(_BUSY, self.retry_after_ms(), client_id)
        self.admit_shopper_message(client_id)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def admit_shopper_message(self, client_id: str | None = None) -> None:
        """Raise Overloaded when the loop's lag says this shopper message is not taken now
        (spread evenly: with a share of 0.5, every other message is refused)."""
        share = self.share()
        if share >= 1.0:
            self._credit = 0.0
            return
        self._credit += share
        if self._credit >= 1.0:
            self._credit -= 1.0
            return
        self.refused += 1
        raise Overloaded(_BUSY, self.retry_after_ms(), client_id)

    async def watch(self, interval: float = PROBE_S) -> None:
        """Sample the running loop's lag for ever (a task of the hub)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(interval)
            self.observe(max(0.0, loop.time() - started - interval))
