"""In-process queue and agent presence: atomic because nothing in it awaits."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from chatserver.backends.base import Claim, Presence


@dataclass
class _Agent:
    status: str = "offline"
    capacity: int = 1
    idle_since: float = 0.0
    chats: set[str] = field(default_factory=set)

    def has_room(self) -> bool:
        return self.status == "online" and len(self.chats) < self.capacity


class MemoryRouter:
    """The queue and who holds which conversation, for one process."""

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._agents: dict[str, _Agent] = {}

    def enqueue(self, conversation_id: str, at_head: bool = False) -> None:
        if conversation_id in self._queue:
            return
        if at_head:
            self._queue.appendleft(conversation_id)
        else:
            self._queue.append(conversation_id)

    def dequeue(self, conversation_id: str) -> bool:
        try:
            self._queue.remove(conversation_id)
        except ValueError:
            return False
        return True

    def queue(self) -> list[str]:
        return list(self._queue)

    def set_presence(self, agent_id: str, status: str, capacity: int, now: float) -> Presence:
        agent = self._agents.setdefault(agent_id, _Agent(idle_since=now))
        if status == "online" and agent.status != "online":
            agent.idle_since = now
        agent.status, agent.capacity = status, capacity
        return self._presence(agent_id, agent)

    def presence(self) -> list[Presence]:
        return [self._presence(agent_id, agent) for agent_id, agent in self._agents.items()]

    def claim_next(self, now: float) -> Claim | None:
        if not self._queue:
            return None
        ready = [(len(a.chats), a.idle_since, i) for i, a in self._agents.items() if a.has_room()]
        if not ready:
            return None
        agent_id = min(ready)[2]
        conversation_id = self._queue.popleft()
        self._take(agent_id, conversation_id, now)
        return Claim(conversation_id, agent_id)

    def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        agent = self._agents.get(agent_id)
        if agent is None or not agent.has_room():
            return False
        self.dequeue(conversation_id)
        self._take(agent_id, conversation_id, now)
        return True

    def hold(self, agent_id: str, conversation_id: str) -> None:
        """Record a chat an agent held before a restart, without touching its presence."""
        self._agents.setdefault(agent_id, _Agent()).chats.add(conversation_id)

    def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        agent = self._agents.get(agent_id)
        if agent is not None and conversation_id in agent.chats:
            agent.chats.discard(conversation_id)
            agent.idle_since = now

    def agent_chats(self) -> dict[str, list[str]]:
        return {i: sorted(a.chats) for i, a in self._agents.items() if a.chats}

    def _take(self, agent_id: str, conversation_id: str, now: float) -> None:
        for other in self._agents.values():
            other.chats.discard(conversation_id)
        agent = self._agents[agent_id]
        agent.chats.add(conversation_id)
        agent.idle_since = now

    @staticmethod
    def _presence(agent_id: str, agent: _Agent) -> Presence:
        return Presence(agent_id, agent.status, agent.capacity, len(agent.chats), agent.idle_since)
