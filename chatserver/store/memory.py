"""The in-process adapters: routing for the embedded store, and a whole store in memory.

Atomic because nothing in them awaits. ``MemoryStore`` keeps everything in this process and
forgets it on exit: fast tests of the hub, and nothing else.
"""

from __future__ import annotations

import bisect
import contextlib
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chatserver.store.base import Store
from chatserver.store.bus import Bus
from chatserver.store.memory_extra import MemorySearch, MemoryTrays
from chatserver.store.ports import (
    AgentAccounts,
    Appended,
    Claim,
    Log,
    Presence,
    Records,
    Render,
    Router,
)
from chatserver.store.shop_config import MemoryShopConfig


@dataclass
class _Agent:
    status: str = "offline"
    chosen: str = "offline"
    capacity: int = 1
    idle_since: float = 0.0
    chats: set[str] = field(default_factory=set)
    languages: tuple[str, ...] = ()

    def has_room(self) -> bool:
        return self.status == "online" and len(self.chats) < self.capacity


class MemoryRouter(Router):
    """The queue and who holds which conversation, for one process."""

    def __init__(self) -> None:
        self._version = 0
        self._queue: deque[str] = deque()
        self._labels: dict[str, tuple[str, float]] = {}  # conversation -> (language, anyone_from)
        self._agents: dict[str, _Agent] = {}
        self._graces: dict[str, tuple[str, float]] = {}

    async def enqueue(
        self,
        conversation_id: str,
        at_head: bool = False,
        language: str = "",
        anyone_from: float = 0.0,
    ) -> None:
        self._version += 1
        self._labels[conversation_id] = (language, anyone_from)
        if conversation_id in self._queue:
            return
        if at_head:
            self._queue.appendleft(conversation_id)
        else:
            self._queue.append(conversation_id)

    async def dequeue(self, conversation_id: str) -> bool:
        self._version += 1
        self._labels.pop(conversation_id, None)
        try:
            self._queue.remove(conversation_id)
        except ValueError:
            return False
        return True

    async def waiting(self) -> list[str]:
        return list(self._queue)

    async def set_presence(
        self,
        agent_id: str,
        status: str,
        capacity: int,
        now: float,
        languages: Sequence[str] = (),
    ) -> Presence:
        self._version += 1
        agent = self._agents.setdefault(agent_id, _Agent(idle_since=now))
        if status == "online" and agent.status != "online":
            agent.idle_since = now
        agent.status, agent.chosen, agent.capacity = status, status, capacity
        agent.languages = tuple(sorted(set(languages)))
        return self._presence(agent_id, agent)

    def version(self) -> int:
        return self._version

    async def presence(self) -> list[Presence]:
        return [self._presence(agent_id, agent) for agent_id, agent in self._agents.items()]

    async def claim_next(self, now: float) -> Claim | None:
        if not self._queue:
            return None
        ready = sorted(
            (len(a.chats), a.idle_since, i, a.languages)
            for i, a in self._agents.items()
            if a.has_room()
        )
        if not ready:
            return None
        best_for: dict[str, str] = {}  # the best agent for each language any of them speaks
        for _, _, agent_id, spoken in ready:
            for language in spoken:
                best_for.setdefault(language, agent_id)
        for conversation_id in self._queue:
            language, anyone_from = self._labels.get(conversation_id, ("", 0.0))
            anyone = not language or now >= anyone_from
            chosen = ready[0][2] if anyone else best_for.get(language)
            if chosen is not None:
                self._queue.remove(conversation_id)
                self._take(chosen, conversation_id, now)
                return Claim(conversation_id, chosen)
        return None

    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        agent = self._agents.get(agent_id)
        if agent is None or not agent.has_room():
            return False
        with contextlib.suppress(ValueError):
            self._queue.remove(conversation_id)
        self._take(agent_id, conversation_id, now)
        return True

    async def pick(self, conversation_id: str, agent_id: str, now: float) -> bool:
        agent = self._agents.get(agent_id)
        if agent is None or agent.status == "offline" or len(agent.chats) >= agent.capacity:
            return False
        if conversation_id not in self._queue:
            return False
        self._queue.remove(conversation_id)
        self._take(agent_id, conversation_id, now)
        return True

    def hold(self, agent_id: str, conversation_id: str) -> None:
        """Record a chat an agent held before a restart, without touching its presence."""
        self._version += 1
        self._agents.setdefault(agent_id, _Agent()).chats.add(conversation_id)

    def restore(self, agent_id: str, chosen: str, capacity: int) -> None:
        """Record what an agent chose before a restart; offline until they connect."""
        self._version += 1
        agent = self._agents.setdefault(agent_id, _Agent())
        agent.chosen, agent.capacity = chosen, capacity

    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        self._version += 1
        agent = self._agents.get(agent_id)
        if agent is not None and conversation_id in agent.chats:
            agent.chats.discard(conversation_id)
            agent.idle_since = now

    async def held(self) -> dict[str, list[str]]:
        return {i: sorted(a.chats) for i, a in self._agents.items() if a.chats}

    async def grace(self, agent_id: str, status: str, until: float) -> None:
        self._version += 1
        self._agents.setdefault(agent_id, _Agent()).status = "offline"
        self._graces[agent_id] = (status, until)

    async def graces(self) -> dict[str, tuple[str, float]]:
        return dict(self._graces)

    async def end_grace(self, agent_id: str) -> str | None:
        self._version += 1
        status, _ = self._graces.pop(agent_id, (None, 0.0))
        return status

    def _take(self, agent_id: str, conversation_id: str, now: float) -> None:
        self._version += 1
        self._labels.pop(conversation_id, None)
        for other in self._agents.values():
            other.chats.discard(conversation_id)
        agent = self._agents[agent_id]
        agent.chats.add(conversation_id)
        agent.idle_since = now

    @staticmethod
    def _presence(agent_id: str, agent: _Agent) -> Presence:
        return Presence(
            agent_id,
            agent.status,
            agent.capacity,
            len(agent.chats),
            agent.idle_since,
            agent.chosen,
            agent.languages,
        )


class MemoryLog(Log):
    """Conversation logs in lists, with each log's client ids."""

    def __init__(self, records: MemoryRecords) -> None:
        self._records = records
        self._events: dict[str, list[str]] = {}
        self._seq_of: dict[str, dict[str, int]] = {}

    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
        expected_rev: int | None = None,
    ) -> Appended:
        events = self._events.setdefault(conversation_id, [])
        known = self._seq_of.setdefault(conversation_id, {})
        if client_id is not None and client_id in known:
            return Appended(known[client_id], events[known[client_id] - 1], duplicate=True)
        if fields:
            await self._records.update(conversation_id, fields)
        events.append(render(len(events) + 1))
        if client_id is not None:
            known[client_id] = len(events)
        return Appended(len(events), events[-1])

    async def read(
        self, conversation_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[tuple[int, str]]:
        events = self._events.get(conversation_id, [])
        start = max(after_seq, 0)
        end = len(events) if limit is None else min(len(events), start + limit)
        return [(seq, events[seq - 1]) for seq in range(start + 1, end + 1)]

    async def find(self, conversation_id: str, client_id: str) -> Appended | None:
        seq = self._seq_of.get(conversation_id, {}).get(client_id)
        if seq is None:
            return None
        return Appended(seq, self._events[conversation_id][seq - 1], duplicate=True)


class MemoryRecords(Records):
    """Conversation records in dictionaries, with each shopper's conversations by creation time."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, str]] = {}
        self._created: dict[str, float] = {}
        self._by_shopper: dict[str, list[tuple[float, str]]] = {}

    async def create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        created_at = float(json.loads(fields.get("created_at", "0")))
        self._docs[conversation_id] = dict(fields)
        self._created[conversation_id] = created_at
        bisect.insort(self._by_shopper.setdefault(shopper_id, []), (created_at, conversation_id))

    async def open_or_create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> str:
        mine = self._by_shopper.get(shopper_id)
        if mine and self._docs[mine[-1][1]].get("status") != '"closed"':
            return mine[-1][1]
        await self.create(conversation_id, shopper_id, fields)  # nothing awaits in it
        return conversation_id

    async def update(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        if conversation_id not in self._docs:
            raise KeyError(conversation_id)
        self._docs[conversation_id].update(fields)

    async def get(self, conversation_id: str) -> dict[str, str] | None:
        doc = self._docs.get(conversation_id)
        return None if doc is None else dict(doc)

    async def of_shopper(self, shopper_id: str) -> list[str]:
        return [conversation_id for _, conversation_id in self._by_shopper.get(shopper_id, [])]

    async def move(self, conversation_id: str, from_shopper: str, to_shopper: str) -> None:
        if conversation_id not in self._docs:
            raise KeyError(conversation_id)
        entry = (self._created[conversation_id], conversation_id)
        old = self._by_shopper.get(from_shopper, [])
        if entry in old:
            old.remove(entry)
        bisect.insort(self._by_shopper.setdefault(to_shopper, []), entry)
        self._docs[conversation_id]["shopper_id"] = json.dumps(to_shopper)

    async def created_between(self, since: float, until: float) -> list[dict[str, str]]:
        found = sorted((t, c) for c, t in self._created.items() if since <= t < until)
        return [dict(self._docs[c]) for _, c in found]


class MemoryAccounts(AgentAccounts):
    """Agent accounts in a dictionary."""

    def __init__(self) -> None:
        self._accounts: dict[str, str] = {}

    async def put(self, agent_id: str, record: str) -> None:
        self._accounts[agent_id] = record

    async def get(self, agent_id: str) -> str | None:
        return self._accounts.get(agent_id)

    async def all(self) -> list[str]:
        return [self._accounts[agent_id] for agent_id in sorted(self._accounts)]

    async def remove(self, agent_id: str) -> bool:
        return self._accounts.pop(agent_id, None) is not None


class MemoryStore(Store):
    """Everything in this process's memory: for fast tests of the hub; forgotten on exit."""

    def __init__(self) -> None:
        records = MemoryRecords()
        super().__init__(
            MemoryLog(records),
            records,
            MemoryRouter(),
            MemoryAccounts(),
            Bus(),
            config=MemoryShopConfig(),
            trays=MemoryTrays(),
            search=MemorySearch(),
        )
