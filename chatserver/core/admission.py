"""Admission control: under overload, refuse new shopper messages, never agent frames.

Two measures of the backlog. The shopper messages being stored now (admitted, not yet
acknowledged): at most ``max_in_flight`` at a time, so the store's commit queue, and the wait in
it, stay bounded whatever is offered. Beyond them, a message waits in line for a place (first
come, first served) while the line moves: it is refused only when the line's oldest has waited ``MAX_WAIT_S``
(a line that long no longer clears in time). Waiting costs a suspended frame; a refusal costs
the client a resend, and the hub the frame read again. And the event loop's lag (how late a
short timer fires): each sample over the bound, once ``SUSTAINED`` came in a row, cuts the share
of shopper messages admitted; the share grows back by itself, linearly over ``recover_s`` on the
clock. So the hub recovers when the load drops. Refused messages are stored nowhere; the client
is told ``overloaded`` with a hint of when to send the same message again. Agent frames are
always admitted: replies to chats already open are served first.

Fair per shopper (so per conversation: a shopper has one open at a time): one shopper holds at
most ``PER_SHOPPER`` of the messages being stored or in line, whatever the number of their tabs;
and while the share is cut, a shopper whose last message was taken less than ``FAIR_GAP_S`` ago
is refused before anybody else, so one shopper flooding cannot crowd out the others. While the
loop lags, a shopper message also lets the frames ready before it (agents' replies) run first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from chatserver.domain.clock import Clock
from chatserver.domain.errors import Overloaded

CUT = 0.8  # the admitted share is multiplied by this for each lag sample over the bound
FLOOR = 0.2  # the share never drops below this: some shoppers always get through
PROBE_S = 0.02  # how often the loop's lag is sampled
SUSTAINED = 3  # samples over the bound in a row before the share is cut (one GC pause is not load)
PER_SHOPPER = 2  # one shopper's messages being stored or in line at once, at most
FAIR_GAP_S = 1.0  # while the share is cut: one message per shopper in this time, at most
CREDIT_CAP = 32.0  # messages the credit of earlier refusals lets through at once, at most
MAX_WAIT_S = 0.5  # while the line's oldest has waited this long, a newcomer is refused


_BUSY = "the chat is very busy right now: this message was not sent; sending it again shortly"


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


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
        self._by_shopper: dict[str, int] = {}  # shoppers with messages being stored: how many
        self._taken_at: dict[str, float] = {}  # while the share is cut: a shopper's last message
        self.agent_frames = 0  # agents' frames being handled now
        self.agent_frames_peak = 0  # the most handled at once (several per agent socket)
        self._waiting: list[asyncio.Future[None]] = []  # shopper messages waiting for agents
        # Shopper messages waiting for a place among those being stored: since when, oldest first.
        self._line: deque[tuple[float, asyncio.Future[None]]] = deque()

    def agent_started(self) -> None:
        """An agent's frame is being handled (always admitted)."""
        self.agent_frames += 1
        self.agent_frames_peak = max(self.agent_frames_peak, self.agent_frames)

    def agent_done(self) -> None:
        self.agent_frames -= 1
        if not self.agent_frames and self._waiting:
            waiting, self._waiting = self._waiting, []
            for waiter in waiting:
                _wake(waiter)

    async def agents_first(self) -> None:
        """While the loop lags, let agents' frames go first: the ones ready now start, then this
        waits (``PROBE_S`` at most) until none is being handled."""
        if not self.lagging():
            return
        await asyncio.sleep(0)
        if not self.agent_frames:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiting.append(waiter)
        timer = loop.call_later(PROBE_S, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if waiter in self._waiting:  # timed out: the agents are still busy
                self._waiting.remove(waiter)

    def lagging(self) -> bool:
        """Whether the loop is behind now (the last sample over the bound, or the share cut)."""
        return self._over > 0 or (self._share < 1.0 and self.share() < 1.0)

    def share(self) -> float:
        """The share of shopper messages admitted now (1.0: all)."""
        if self._share >= 1.0:
            return 1.0
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

    async def enter(
        self,
        client_id: str | None = None,
        shopper_id: str = "",
        may_wait: Callable[[], bool] | None = None,
    ) -> None:
        """Take a place among the shopper messages being stored, at once or after a wait in line;
        :meth:`leave` gives it back once the message is stored (or failed).

        ``may_wait``, asked only when there is no room now: whether the message may wait in line
        (its sender has sent nothing more meanwhile: a sender ahead of the hub gets refusals, at
        once, rather than a backlog behind a wait, unseen by the line).

        Raises:
            Overloaded: not taken now (the lag's share, the shopper's own count, a line that
                no longer clears in time, a sender who may not wait); nothing holds a place.
        """
        mine = self._by_shopper.get(shopper_id, 0)
        if shopper_id and mine >= PER_SHOPPER:
            self.refused += 1
            raise Overloaded(_BUSY, self.retry_after_ms(), client_id)
        line = self._line
        if line and self.clock.now() - line[0][0] >= MAX_WAIT_S:
            self.refused += 1
            raise Overloaded(_BUSY, max(self.retry_after_ms(), round(1000 * MAX_WAIT_S)), client_id)
        if self._full() and may_wait is not None and not may_wait():
            self.refused += 1
            raise Overloaded(_BUSY, self.retry_after_ms(), client_id)
        self.admit_shopper_message(client_id, shopper_id)
        if shopper_id:
            self._by_shopper[shopper_id] = mine + 1
        place = None
        try:
            # Taken: only now, and only while the loop lags, do agents' ready frames go first.
            await self.agents_first()
            if not self._full():
                self.in_flight += 1
                return
            place = asyncio.get_running_loop().create_future()
            line.append((self.clock.now(), place))
            await place  # its place is handed over by the message leaving it
        except BaseException:
            # Cancelled in line, the place stays there, done, and is skipped in its turn.
            if place is not None and place.done() and not place.cancelled():
                self._hand_over()  # handed a place it will not use: the next one takes it
            self._left_by(shopper_id)
            raise

    def _full(self) -> bool:
        """No place free now: a message would wait in line."""
        return bool(self._line) or 0 < self.max_in_flight <= self.in_flight

    def leave(self, shopper_id: str = "") -> None:
        """A shopper message that :meth:`enter` let in is stored (or failed): the next in line
        takes its place."""
        self._left_by(shopper_id)
        self._hand_over()

    def _hand_over(self) -> None:
        line = self._line
        while line:
            _, place = line.popleft()
            if not place.done():
                place.set_result(None)
                return
        self.in_flight -= 1

    def _left_by(self, shopper_id: str) -> None:
        if shopper_id:
            left = self._by_shopper[shopper_id] - 1
            if left:
                self._by_shopper[shopper_id] = left
            else:
                del self._by_shopper[shopper_id]

    @property
    def waiting(self) -> int:
        """Shopper messages in line for a place (some may have left: their socket closed)."""
        return len(self._line)

    def admit_shopper_message(self, client_id: str | None = None, shopper_id: str = "") -> None:
        """Raise Overloaded when the loop's lag says this shopper message is not taken now
        (spread evenly: with a share of 0.5, every other message is refused; a shopper who had
        one taken within ``FAIR_GAP_S`` first)."""
        if self._share >= 1.0:
            return  # never cut, or recovered and seen so below
        share = self.share()
        if share >= 1.0:
            self._share, self._credit = 1.0, 0.0
            self._taken_at.clear()
            return
        now = self.clock.now()
        # Every message offered earns its share; what a shopper refused for sending too often
        # would have taken goes to the next ones.
        self._credit = min(CREDIT_CAP, self._credit + share)
        if shopper_id:
            taken_at = self._taken_at.get(shopper_id)
            if taken_at is not None and now - taken_at < FAIR_GAP_S:
                self.refused += 1
                raise Overloaded(_BUSY, self.retry_after_ms(), client_id)
        if self._credit >= 1.0:
            self._credit -= 1.0
            if shopper_id:
                self._note_taken(shopper_id, now)
            return
        self.refused += 1
        raise Overloaded(_BUSY, self.retry_after_ms(), client_id)

    def _note_taken(self, shopper_id: str, now: float) -> None:
        taken = self._taken_at
        taken.pop(shopper_id, None)
        taken[shopper_id] = now  # in time order: the oldest first
        while taken:
            oldest = next(iter(taken))
            if now - taken[oldest] < FAIR_GAP_S:
                break
            del taken[oldest]

    async def watch(self, interval: float = PROBE_S) -> None:
        """Sample the running loop's lag for ever (a task of the hub)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(interval)
            self.observe(max(0.0, loop.time() - started - interval))
