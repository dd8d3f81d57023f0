"""A connected client as the hub sees it: who it is, and in-order, once-only delivery per log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger("chatserver.core.sessions")

ReadLog = Callable[[str, int, int], Awaitable[list[tuple[int, str]]]]
"""``(log, after_seq, limit)``: at most ``limit`` stored events after ``after_seq``, in order."""

_READ_ATTEMPTS = 5


class SessionOverflow(Exception):
    """Raised when a client cannot keep up with what it is sent."""


class Outbox(asyncio.Queue[str]):
    """A socket's bounded queue of frames, which can wait until its writer has made room."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self._taken = asyncio.Event()

    def _get(self) -> str:
        self._taken.set()
        return super()._get()

    async def room(self, free: int) -> None:
        """Return once at least ``free`` frames fit."""
        while self.maxsize - self.qsize() < free:
            self._taken.clear()
            await self._taken.wait()


@dataclass
class _Feed:
    delivered: int
    catching_up: bool = True
    seen: int = 0  # the highest live seq offered while catching up (the log has it)


@dataclass(eq=False)
class Session:
    """One socket's client. ``outbox`` is bounded; a client that fills it is disconnected.

    Catch-up (a resume from ``last_seq``, a gap, a relay that reconnected) reads the log in
    pages of a quarter of the outbox, each once the writer has sent all but a quarter: paced
    by the socket, and live events keep at least half. Live events that arrive meanwhile are not held: the log
    has them, and the catch-up reads until it has passed the highest one seen.
    """

    role: Literal["shopper", "agent"]
    user_id: str
    name: str
    outbox: Outbox
    read_log: ReadLog
    feeds: dict[str, _Feed] = field(default_factory=dict)
    on_overflow: Callable[[], None] = lambda: None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    overflowed: bool = False

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
        self.feeds[conversation_id] = _Feed(delivered=after_seq)
        self._catch_up(conversation_id)

    def unfollow(self, conversation_id: str) -> None:
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
        self.tasks.add(task)
        task.add_done_callback(self._caught_up)

    def _caught_up(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
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
        for task in self.tasks:
            task.cancel()
