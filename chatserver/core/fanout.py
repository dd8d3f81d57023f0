"""This worker's connected sessions, and which conversation logs each one follows.

Event channels: ``c:<log>`` carries a conversation log's events and live notices, ``agents``
reaches every agent. Signal topic ``follow:<agent>`` tells an agent's sockets to follow a
conversation they were just given, ``status:<agent>`` to show their status and load afresh
(control messages: never on an event channel); topic ``sessions`` (message: an agent id) makes
that agent's sockets check their session again. Topic ``shopper:<shopper>`` (message: a
conversation id) makes that shopper's sockets, in every tab on every worker, follow the
conversation one of their tabs just started.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

from chatserver.core.auth import SESSIONS_TOPIC
from chatserver.core.sessions import Session
from chatserver.domain import protocol as p
from chatserver.store.bus import Bus

log = logging.getLogger("chatserver.core.fanout")

AGENTS_CHANNEL = "agents"


def conversation_channel(log_id: str) -> str:
    return f"c:{log_id}"


def follow_topic(agent_id: str) -> str:
    return f"follow:{agent_id}"


def status_topic(agent_id: str) -> str:
    return f"status:{agent_id}"


def shopper_topic(shopper_id: str) -> str:
    return f"shopper:{shopper_id}"


StatusSender = Callable[[Session], Coroutine[Any, Any, None]]


class Fanout:
    """Delivers what the bus carries to the right sessions of this worker."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._shoppers: dict[str, set[Session]] = defaultdict(set)
        self._agents: dict[str, set[Session]] = defaultdict(set)
        self._followers: dict[str, set[Session]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()
        self.resume_hooks: list[Callable[[], None]] = []
        self._rechecks: dict[Session, Callable[[], None]] = {}
        self.send_status: StatusSender | None = None  # set by the assigner, which knows loads

    async def start(self) -> None:
        self.bus.set_listeners(self.on_event, self.on_signal, self.on_resume)
        await self.bus.follow(AGENTS_CHANNEL)
        await self.bus.watch(SESSIONS_TOPIC)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- who is here ---------------------------------------------------------------------

    async def add_shopper(self, session: Session) -> None:
        sessions = self._shoppers[session.user_id]
        sessions.add(session)
        if len(sessions) == 1:
            await self.bus.watch(shopper_topic(session.user_id))

    def shopper_ids(self) -> list[str]:
        """The shoppers connected to this worker."""
        return list(self._shoppers)

    def shopper_sessions(self, shopper_id: str) -> tuple[Session, ...]:
        return tuple(self._shoppers.get(shopper_id, ()))

    async def add_agent(self, session: Session) -> None:
        sessions = self._agents[session.user_id]
        sessions.add(session)
        if len(sessions) == 1:
            await self.bus.watch(follow_topic(session.user_id))
            await self.bus.watch(status_topic(session.user_id))

    def on_session_change(self, session: Session, recheck: Callable[[], None]) -> None:
        """Call ``recheck`` when the account behind an agent's session changes (any worker)."""
        self._rechecks[session] = recheck

    def agent_sessions(self, agent_id: str) -> tuple[Session, ...]:
        return tuple(self._agents.get(agent_id, ()))

    async def remove(self, session: Session) -> bool:
        """Forget a closed session; True when it was an agent's last socket on this worker."""
        session.close()
        self._rechecks.pop(session, None)
        for log_id in list(session.feeds):
            await self.unfollow(session, log_id)
        registry = self._shoppers if session.role == "shopper" else self._agents
        sessions = registry.get(session.user_id)
        if sessions is None or session not in sessions:
            return False
        sessions.discard(session)
        if sessions:
            return False
        del registry[session.user_id]
        if session.role == "shopper":
            await self.bus.unwatch(shopper_topic(session.user_id))
            return False
        await self.bus.unwatch(follow_topic(session.user_id))
        await self.bus.unwatch(status_topic(session.user_id))
        return True

    # --- following logs ------------------------------------------------------------------

    async def follow(self, session: Session, log_id: str, after_seq: int) -> None:
        """Send a session a log's events after ``after_seq``, then its live events."""
        followers = self._followers[log_id]
        followers.add(session)
        if len(followers) == 1:
            await self.bus.follow(conversation_channel(log_id))
        session.follow(log_id, after_seq)

    async def unfollow(self, session: Session, log_id: str) -> None:
        session.unfollow(log_id)
        followers = self._followers.get(log_id)
        if followers is None:
            return
        followers.discard(session)
        if not followers:
            del self._followers[log_id]
            await self.bus.unfollow(conversation_channel(log_id))

    async def follow_as_agent(
        self, session: Session, conversation_id: str, last_seqs: dict[str, int]
    ) -> None:
        """An agent follows a conversation and its agent-only staff log."""
        staff = p.staff_log(conversation_id)
        await self.follow(session, conversation_id, last_seqs.get(conversation_id, 0))
        await self.follow(session, staff, last_seqs.get(staff, 0))

    async def shopper_started(self, shopper_id: str, conversation_id: str) -> None:
        """A shopper started a conversation: all their tabs, here and on other workers, follow
        it from its start instead of the one before."""
        for session in self.shopper_sessions(shopper_id):
            await self._switch(session, conversation_id)
        await self.bus.signal(shopper_topic(shopper_id), conversation_id)

    async def _switch(self, session: Session, conversation_id: str) -> None:
        if session.follows(conversation_id):
            return
        for old in list(session.feeds):
            await self.unfollow(session, old)
        await self.follow(session, conversation_id, 0)

    def on_event(self, channel: str, seq: int | None, text: str) -> None:
        """The bus's event listener: one event, to every local session it concerns."""
        kind, _, key = channel.partition(":")
        if kind == "c":
            for session in tuple(self._followers.get(key, ())):
                session.offer(key, seq, text)
        elif channel == AGENTS_CHANNEL:
            for sessions in self._agents.values():
                for session in sessions:
                    session.send(text)

    def on_resume(self) -> None:
        """The relay is back after a loss: every follower re-reads its log from what it has."""
        for log_id, sessions in self._followers.items():
            for session in sessions:
                session.resync(log_id)
        for hook in self.resume_hooks:
            hook()

    def on_signal(self, topic: str, message: str) -> None:
        """The bus's signal listener: an agent's sockets follow a conversation just given them,
        or show their load afresh; a shopper's follow the conversation they started."""
        kind, _, agent_id = topic.partition(":")
        if topic == SESSIONS_TOPIC:
            for session in tuple(self._agents.get(message, ())):
                self._rechecks.get(session, lambda: None)()
            return
        if kind == "shopper":
            for session in self.shopper_sessions(agent_id):
                self.soon(self._switch(session, message))
            return
        for session in tuple(self._agents.get(agent_id, ())):
            if kind == "follow" and not session.follows(message):
                self.soon(self.follow_as_agent(session, message, {}))
            elif kind == "status" and self.send_status is not None:
                self.soon(self.send_status(session))

    def soon(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work in the background; a failure is logged, not lost."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())
