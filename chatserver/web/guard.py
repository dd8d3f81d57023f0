"""Limits for sockets that misbehave: no hello, silence, a session that ended, too many at once.

Time comes from the hub's clock, so tests move it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

from chatserver.domain.clock import Clock
from chatserver.domain.errors import ChatError, Idle, TimedOut, Unauthorized, Unavailable
from chatserver.domain.settings import Settings
from chatserver.store.ports import StoreUnavailable

SessionCheck = Callable[[], Awaitable[float]]
"""Checks an agent's session again; returns when it expires, raises Unauthorized when it ended."""


Verdict = Callable[[ChatError], None]
"""Told once why a socket must close (the error carries the close code)."""


class Watchdog:
    """Decides when a socket must close: no hello in time, idle too long, or its session ended.

    It owns no task: its :class:`Patrol` wakes it at its next deadline, and a recheck runs the
    agent's session check at once. ``verdict`` is called at most once.
    """

    __slots__ = (
        "_again",
        "_check",
        "_checked",
        "_checking",
        "_due",
        "_expires",
        "_greeting",
        "_heard",
        "_hello",
        "_opened",
        "_patrol",
        "_verdict",
    )

    def __init__(self, patrol: Patrol, verdict: Verdict) -> None:
        self._patrol = patrol
        self._verdict: Verdict | None = verdict
        self._opened = self._heard = patrol.clock.now()
        self._hello = self._greeting = self._checking = self._again = False
        self._check: SessionCheck | None = None
        self._expires = math.inf
        self._checked = 0.0
        self._due = math.inf  # when the patrol will look at this socket next
        patrol.schedule(self)

    def heard(self) -> None:
        """The client sent a frame."""
        self._heard = self._patrol.clock.now()

    @contextlib.contextmanager
    def greeting(self) -> Iterator[None]:
        """A hello is being answered: its deadline waits for the answer (it may take a while)."""
        self._greeting = True
        try:
            yield
        finally:
            self._greeting = False
            self._patrol.schedule(self)

    def said_hello(self, check: SessionCheck | None = None, expires_at: float = math.inf) -> None:
        """The socket is welcomed; an agent's also has its session checked from now on."""
        self._hello, self._check, self._expires = True, check, expires_at
        self._checked = self._patrol.clock.now()
        self._patrol.schedule(self)

    def recheck(self) -> None:
        """The account behind the session changed: check it now."""
        self.review(self._patrol.clock.now(), woken=True)

    def stop(self) -> None:
        """The socket is closed: nothing more to decide."""
        self._verdict = None
        self._patrol.forget(self)

    @property
    def stopped(self) -> bool:
        return self._verdict is None

    def next_time(self) -> float:
        settings = self._patrol.settings
        if self._verdict is None:
            return math.inf
        if not self._hello:
            return math.inf if self._greeting else self._opened + settings.hello_timeout_s
        when = math.inf
        if settings.idle_timeout_s:
            when = self._heard + settings.idle_timeout_s
        if self._check is not None and not self._checking:
            when = min(when, self._checked + settings.session_check_s, self._expires)
        return when

    def review(self, now: float, woken: bool = False) -> None:
        """Close the socket if one of its limits has passed; else wait for the next."""
        if self._verdict is None:
            return
        error = self._error(now)
        if error is not None:
            self._close(error)
            return
        if self._check is not None and self._checking:
            self._again = self._again or woken  # changed during the check: check once more
        elif self._check is not None and (
            woken or now >= self._checked + self._patrol.settings.session_check_s
        ):
            self._checked, self._checking = now, True
            self._patrol.spawn(self._run_check(self._check))
        self._patrol.schedule(self)

    def _error(self, now: float) -> ChatError | None:
        settings = self._patrol.settings
        if not self._hello:
            if not self._greeting and now >= self._opened + settings.hello_timeout_s:
                return TimedOut(f"no hello within {settings.hello_timeout_s:g} s: closing")
            return None
        if settings.idle_timeout_s and now >= self._heard + settings.idle_timeout_s:
            return Idle(f"no frame for {settings.idle_timeout_s:g} s: closing; reconnect to go on")
        if self._check is not None and now >= self._expires:
            return Unauthorized("session expired: log in again")
        return None

    async def _run_check(self, check: SessionCheck) -> None:
        try:
            self._expires = await check()
        except Unauthorized as exc:
            self._close(exc)
            return
        except (StoreUnavailable, Unavailable):
            pass  # the store is away: check again next round rather than end the session
        finally:
            self._checking = False
        again, self._again = self._again, False
        self.review(self._patrol.clock.now(), woken=again)

    def _close(self, error: ChatError) -> None:
        verdict, self._verdict = self._verdict, None
        self._patrol.forget(self)
        if verdict is not None:
            verdict(error)


def _set(future: asyncio.Future[None], *_: object) -> None:
    if not future.done():
        future.set_result(None)


class Patrol:
    """Every socket's watchdog on one task: it sleeps by the clock until the earliest deadline.

    Deadlines are kept in a heap; one that moved (a frame heard, a hello said) is checked when
    its old time comes and put back. Entries of closed sockets are swept out once they are
    half the heap, so sockets that come and go leave nothing behind.
    """

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        self._dead = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None
        self._until = math.inf
        self._checks: set[asyncio.Task[None]] = set()

    def schedule(self, dog: Watchdog) -> None:
        """Look at ``dog`` again at its next deadline."""
        when = dog.next_time()
        if when >= dog._due:
            return
        if dog._due < math.inf:
            self._dead += 1  # its earlier entry is now stale
        dog._due = when
        heapq.heappush(self._heap, (when, next(self._order), dog))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        elif when < self._until and self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    @property
    def pending(self) -> int:
        """Deadlines kept (some stale until swept)."""
        return len(self._heap)

    def forget(self, dog: Watchdog) -> None:
        if dog._due < math.inf:
            dog._due = math.inf
            self._dead += 1
            if self._dead > 256 and self._dead * 2 > len(self._heap):
                self._heap = [e for e in self._heap if e[2]._due == e[0]]
                heapq.heapify(self._heap)
                self._dead = 0

    def spawn(self, check: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(check)
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _run(self) -> None:
        heap = self._heap
        while True:
            now = self.clock.now()
            heap = self._heap
            while heap and heap[0][0] <= now:
                when, _, dog = heapq.heappop(heap)
                if dog._due != when:
                    self._dead -= 1
                    continue
                dog._due = math.inf
                dog.review(now)
                heap = self._heap
            self._until = heap[0][0] if heap else math.inf
            wake = self._wake = asyncio.get_running_loop().create_future()
            sleeper: asyncio.Future[None] | None = None
            if self._until < math.inf:
                sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, self._until - now)))
                sleeper.add_done_callback(functools.partial(_set, wake))
            try:
                await wake
            finally:
                if sleeper is not None:
                    sleeper.cancel()

    def _woken(self, _: object) -> None:
        if self._wake is not None:
            _set(self._wake)

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._checks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None


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
