"""Limits for sockets that misbehave: no hello, silence, a session that ended, too many at once.

Time comes from the hub's clock, so tests move it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

from chatserver.domain.clock import Clock
from chatserver.domain.errors import ChatError, Idle, TimedOut, Unauthorized, Unavailable
from chatserver.domain.settings import Settings
from chatserver.store.ports import StoreUnavailable

SessionCheck = Callable[[], Awaitable[float]]
"""Checks an agent's session again; returns when it expires, raises Unauthorized when it ended."""


class Watchdog:
    """Decides when a socket must close: no hello in time, idle too long, or its session ended."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings, self._clock = settings, clock
        self._opened = self._heard = clock.now()
        self._hello = self._greeting = False
        self._check: SessionCheck | None = None
        self._expires = math.inf
        self._checked = 0.0
        self._wake = asyncio.Event()

    def heard(self) -> None:
        """The client sent a frame."""
        self._heard = self._clock.now()

    @contextlib.contextmanager
    def greeting(self) -> Iterator[None]:
        """A hello is being answered: its deadline waits for the answer (it may take a while)."""
        self._greeting = True
        try:
            yield
        finally:
            self._greeting = False
            self._wake.set()

    def said_hello(self, check: SessionCheck | None = None, expires_at: float = math.inf) -> None:
        """The socket is welcomed; an agent's also has its session checked from now on."""
        self._hello, self._check, self._expires = True, check, expires_at
        self._checked = self._clock.now()

    def recheck(self) -> None:
        """The account behind the session changed: check it now."""
        self._wake.set()

    async def run(self) -> ChatError:
        """Wait until the socket must close; the error says why (and carries the close code)."""
        while True:
            woken = await self._sleep_until(self._next())
            error = await self._verdict(woken)
            if error is not None:
                return error

    def _next(self) -> float:
        settings = self._settings
        if not self._hello:
            return math.inf if self._greeting else self._opened + settings.hello_timeout_s
        times = [math.inf]
        if settings.idle_timeout_s:
            times.append(self._heard + settings.idle_timeout_s)
        if self._check is not None:
            times += [self._checked + settings.session_check_s, self._expires]
        return min(times)

    async def _sleep_until(self, when: float) -> bool:
        """Sleep by the clock until ``when`` or a recheck; True when woken for a recheck."""
        if when <= self._clock.now():  # a clock may not wake a zero sleep before it moves again
            woken = self._wake.is_set()
            self._wake.clear()
            return woken
        tasks: list[asyncio.Future[object]] = [asyncio.ensure_future(self._wake.wait())]
        if when < math.inf:
            tasks.append(
                asyncio.ensure_future(self._clock.sleep(max(0.0, when - self._clock.now())))
            )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    async def _verdict(self, woken: bool) -> ChatError | None:
        now, settings = self._clock.now(), self._settings
        if not self._hello:
            if not self._greeting and now >= self._opened + settings.hello_timeout_s:
                return TimedOut(f"no hello within {settings.hello_timeout_s:g} s: closing")
            return None
        if settings.idle_timeout_s and now >= self._heard + settings.idle_timeout_s:
            return Idle(f"no frame for {settings.idle_timeout_s:g} s: closing; reconnect to go on")
        if self._check is None:
            return None
        if now >= self._expires:
            return Unauthorized("session expired: log in again")
        if woken or now >= self._checked + settings.session_check_s:
            self._checked = now
            try:
                self._expires = await self._check()
            except Unauthorized as exc:
                return exc
            except (StoreUnavailable, Unavailable):
                pass  # the store is away: check again next round rather than end the session
        return None


class AddressCap:
    """Counts the open sockets of each client address (on this worker)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def enter(self, address: str) -> bool:
        """Count a new socket; False (and not counted) when the address already has ``limit``."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def leave(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            with contextlib.suppress(KeyError):
                del self._open[address]
