"""A connected client as the hub sees it: who it is, and in-order, once-only delivery per log."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("chatserver.core.sessions")

ReadLog = Callable[[str, int, int], Awaitable[list[tuple[int, str]]]]
"""``(log, after_seq, limit)``: at most ``limit`` stored events after ``after_seq``, in order."""

_READ_ATTEMPTS = 5


class SessionOverflow(Exception):
    """Raised when a client cannot keep up with what it is sent."""


class Outbox:
    """A socket's bounded queue of frames, which can wait until its writer has made room.

    Lean on purpose (one per socket, thousands idle): the deque and the waiters exist only
    while something is queued or waited for. ``put_nowait`` raises ``asyncio.QueueFull`` when
    ``maxsize`` frames are queued. A socket's own outbox (``web/connection.py``) sends directly
    when nothing is queued; this base class only keeps frames (tests read them back).
    """

    __slots__ = ("_items", "_waiters", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[str] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, text: str) -> None:
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self.maxsize:
            raise asyncio.QueueFull
        self._items.append(text)
        self._wake()

    def get_nowait(self) -> str:
        if not self._items:
            raise asyncio.QueueEmpty
        text = self._items.popleft()
        if not self._items:
            self._items = None
        self._wake()
        return text

    async def get(self) -> str:
        """The oldest frame, once there is one."""
        while not self._items:
            await self._changed()
        return self.get_nowait()

    async def room(self, free: int) -> None:
        """Return once at least ``free`` frames fit."""
        while self.maxsize - self.qsize() < free:
            await self._changed()

    async def _changed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)


@dataclass(slots=True)
class _Feed:
    delivered: int
    catching_up: bool = True
    seen: int = 0  # the highest live seq offered while catching up (the log has it)


_NO_FEEDS: dict[str, _Feed] = {}
"""Shared by every session that follows nothing yet (never written to)."""


def _ignore() -> None:
    pass


class Session:
    """One socket's client. ``outbox`` is bounded; a client that fills it is disconnected.

    Catch-up (a resume from ``last_seq``, a gap, a relay that reconnected) reads the log in
    pages of a quarter of the outbox, each once the writer has sent all but a quarter: paced
    by the socket, and live events keep at least half. Live events that arrive meanwhile are not held: the log
    has them, and the catch-up reads until it has passed the highest one seen.

    Slotted, and its dict of feeds and set of tasks exist only once used: a page view's
    socket that follows nothing costs one small object.
    """

    __slots__ = (
        "__weakref__",
        "_tasks",
        "feeds",
        "name",
        "on_overflow",
        "outbox",
        "overflowed",
        "read_log",
        "role",
        "user_id",
    )

    def __init__(
        self,
        role: Literal["shopper", "agent"],
        user_id: str,
        name: str,
        outbox: Outbox,
        read_log: ReadLog,
        on_overflow: Callable[[], None] = _ignore,
    ) -> None:
        self.role = role
        self.user_id = user_id
        self.name = name
        self.outbox = outbox
        self.read_log = read_log
        self.feeds = _NO_FEEDS
        self.on_overflow = on_overflow
        self._tasks: set[asyncio.Task[None]] | None = None
        self.overflowed = False

    def __repr__(self) -> str:
        return f"Session({self.role}, {self.user_id!r})"

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """The catch-up reads running now."""
        return self._tasks if self._tasks is not None else set()

    def send(self, text: str) -> None:
        """Queue a frame's text for the socket's writer."""
        if self.overflowed:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.on_overflow()

    def follows(self, conversation_id: str) -> bool:
        return conversation_id in self.feeds

    def follow(self, conversation_id: str, after_seq: int) -> None:
        """Deliver this conversation's log from ``after_seq`` on, then live events, each once."""
        if conversation_id in self.feeds:
            return
        if self.feeds is _NO_FEEDS:
            self.feeds = {}
        self.feeds[conversation_id] = _Feed(delivered=after_seq)
        self._catch_up(conversation_id)

    def unfollow(self, conversation_id: str) -> None:
        if self.feeds is not _NO_FEEDS:
            self.feeds.pop(conversation_id, None)

    def offer(self, conversation_id: str, seq: int | None, text: str) -> None:
        """A message published on one of this client's conversations."""
        feed = self.feeds.get(conversation_id)
        if feed is None:
            return
        if seq is None:
            self.send(text)
        elif feed.catching_up:
            feed.seen = max(feed.seen, seq)
        elif seq == feed.delivered + 1:
            feed.delivered = seq
            self.send(text)
        elif seq > feed.delivered:
            feed.seen = seq
            self.resync(conversation_id)

    def resync(self, conversation_id: str) -> None:
        """Read this log from the last seq delivered: live events may have been missed."""
        feed = self.feeds.get(conversation_id)
        if feed is not None and not feed.catching_up:
            feed.catching_up = True
            self._catch_up(conversation_id)

    def _catch_up(self, conversation_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._read_missing(conversation_id))
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._caught_up)

    def _caught_up(self, task: asyncio.Task[None]) -> None:
        if self._tasks is not None:
            self._tasks.discard(task)
            if not self._tasks:
                self._tasks = None
        if not task.cancelled() and task.exception() is not None:
            # The log could not be read (the store is away): this client cannot be served in
            # order any more, so it is let go like a slow one and resumes by reconnecting.
            log.warning("catch-up failed: %r; closing the socket", task.exception())
            self.overflowed = True
            self.on_overflow()

    async def _read_missing(self, conversation_id: str) -> None:
        page = max(1, self.outbox.maxsize // 4)
        while (feed := self.feeds.get(conversation_id)) is not None and feed.catching_up:
            await self.outbox.room(self.outbox.maxsize - page)  # then at most half full
            rows = await self._read_page(conversation_id, feed.delivered, page)
            if rows is None or self.feeds.get(conversation_id) is not feed:
                return
            for seq, text in rows:
                if seq > feed.delivered:
                    feed.delivered = seq
                    self.send(text)
            # Done when the log is read to its end and past every live event seen meanwhile;
            # a seen seq the log does not have (it cannot, once published) would loop forever.
            if len(rows) < page and (feed.seen <= feed.delivered or not rows):
                feed.catching_up = False

    async def _read_page(self, log_id: str, after: int, limit: int) -> list[tuple[int, str]] | None:
        """A page of the log, retried briefly; None (and the socket closed) if the store is gone."""
        for attempt in range(_READ_ATTEMPTS):
            try:
                return await self.read_log(log_id, after, limit)
            except Exception as exc:  # the store's outage: the client resumes by reconnecting
                log.warning("reading %s for a client failed (%s)", log_id, exc)
                if attempt + 1 < _READ_ATTEMPTS:
                    await asyncio.sleep(0.1 * 2**attempt)
        self.overflowed = True
        self.on_overflow()
        return None

    def close(self) -> None:
        for task in list(self._tasks or ()):
            task.cancel()
