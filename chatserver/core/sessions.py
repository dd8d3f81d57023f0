"""A connected client as the hub sees it: who it is, and in-order, once-only delivery per log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger("chatserver.core.sessions")

ReadLog = Callable[[str, int], Awaitable[list[tuple[int, str]]]]


class SessionOverflow(Exception):
    """Raised when a client cannot keep up with what it is sent."""


@dataclass
class _Feed:
    delivered: int
    held: list[tuple[int, str]] | None = None  # live events kept while catching up from the log


@dataclass(eq=False)
class Session:
    """One socket's client. ``outbox`` is bounded; a client that fills it is disconnected."""

    role: Literal["shopper", "agent"]
    user_id: str
    name: str
    outbox: asyncio.Queue[str]
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
        self.feeds[conversation_id] = _Feed(delivered=after_seq, held=[])
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
        elif feed.held is not None:
            feed.held.append((seq, text))
        elif seq == feed.delivered + 1:
            feed.delivered = seq
            self.send(text)
        elif seq > feed.delivered:
            feed.held = [(seq, text)]
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
        while (feed := self.feeds.get(conversation_id)) is not None and feed.held is not None:
            rows = await self.read_log(conversation_id, feed.delivered)
            if self.feeds.get(conversation_id) is not feed:
                return
            before = feed.delivered
            held, feed.held = sorted(feed.held + rows), None
            for seq, text in held:
                # A seq the log does not hold yet leaves a gap: read again, unless the last
                # read made no progress at all (then deliver what we have rather than stall).
                if seq > feed.delivered + 1 and feed.delivered > before:
                    feed.held = [item for item in held if item[0] > feed.delivered]
                    break
                if seq > feed.delivered:
                    feed.delivered = seq
                    self.send(text)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
