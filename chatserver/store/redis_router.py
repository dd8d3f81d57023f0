"""Routing on Redis: the queue, presence and holders, changed only inside Lua scripts.

Keys: ``queue`` a list, head first; ``agents`` a set of agent ids known to routing;
``presence:<a>`` capacity, idle time and the status the agent chose; ``graces`` agent ->
``<status>|<until>`` for agents connected nowhere whose chats wait; ``status:<a>`` the status, expiring unless the worker
holding the agent's socket refreshes it; ``chats:<a>`` the agent's open chats; ``holders``
conversation -> agent; ``qlang`` waiting conversation -> ``<language>|<anyone from>``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from chatserver.store._redis_base import DOWN, Keys, guard, lua
from chatserver.store.ports import Claim, Presence, Router

log = logging.getLogger("chatserver.store.redis")


class RedisRouter(Router):
    """Routing shared by every worker.

    Args:
        presence_ttl: seconds an agent's status outlives the last refresh by its worker; a worker
            that dies takes its agents offline after this long.
    """

    def __init__(self, client: aioredis.Redis, keys: Keys, presence_ttl: float) -> None:
        self._redis = client
        self._k = keys
        self.presence_ttl = presence_ttl
        self._enqueue = client.register_script(lua("enqueue"))
        self._claim = client.register_script(lua("claim_next"))
        self._assign = client.register_script(lua("assign"))
        self._pick = client.register_script(lua("pick"))
        self._release = client.register_script(lua("release"))
        self._set_presence = client.register_script(lua("set_presence"))
        self._presence = client.register_script(lua("presence"))
        self._end_grace = client.register_script(lua("end_grace"))
        self._routing_keys = [keys("queue"), keys("agents"), keys("holders")]
        self._local_agents: set[str] = set()
        self._refresher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._refresher = asyncio.create_task(self._refresh_presence(), name="redis-presence")

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    async def _route(self, script: Any, *args: object) -> Any:
        with guard():
            return await script(self._routing_keys, [self._k.prefix, *args])

    async def enqueue(
        self,
        conversation_id: str,
        at_head: bool = False,
        language: str = "",
        anyone_from: float = 0.0,
    ) -> None:
        label = f"{language}|{anyone_from!r}"
        with guard():
            await self._enqueue(
                [self._k("queue"), self._k("qlang")],
                [conversation_id, "1" if at_head else "0", label],
            )

    async def dequeue(self, conversation_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.lrem(self._k("queue"), 1, conversation_id)
            tx.hdel(self._k("qlang"), conversation_id)
            with guard():
                removed, _ = await tx.execute()
        return bool(removed)

    async def waiting(self) -> list[str]:
        with guard():
            return list(await self._redis.lrange(self._k("queue"), 0, -1))

    async def set_presence(
        self,
        agent_id: str,
        status: str,
        capacity: int,
        now: float,
        languages: Sequence[str] = (),
    ) -> Presence:
        ttl_ms = int(self.presence_ttl * 1000)
        spoken = tuple(sorted(set(languages)))
        reply = await self._route(
            self._set_presence, agent_id, status, capacity, repr(now), ttl_ms, " ".join(spoken)
        )
        if status == "offline":
            self._local_agents.discard(agent_id)
        else:
            self._local_agents.add(agent_id)
        return Presence(
            agent_id, reply[0], int(reply[1]), int(reply[2]), float(reply[3]), status, spoken
        )

    async def presence(self) -> list[Presence]:
        flat = await self._route(self._presence)
        agents = [
            Presence(
                flat[i],
                flat[i + 1],
                int(flat[i + 2]),
                int(flat[i + 3]),
                float(flat[i + 4]),
                flat[i + 5],
                tuple(flat[i + 6].split()),
            )
            for i in range(0, len(flat), 7)
        ]
        return sorted(agents, key=lambda a: a.agent_id)

    async def claim_next(self, now: float) -> Claim | None:
        reply = await self._route(self._claim, repr(now))
        return Claim(reply[0], reply[1]) if reply else None

    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        return bool(await self._route(self._assign, repr(now), conversation_id, agent_id))

    async def pick(self, conversation_id: str, agent_id: str, now: float) -> bool:
        return bool(await self._route(self._pick, repr(now), conversation_id, agent_id))

    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        await self._route(self._release, repr(now), agent_id, conversation_id)

    async def held(self) -> dict[str, list[str]]:
        with guard():
            holders: dict[str, str] = await self._redis.hgetall(self._k("holders"))
        chats: dict[str, list[str]] = {}
        for conversation_id, agent_id in sorted(holders.items()):
            chats.setdefault(agent_id, []).append(conversation_id)
        return chats

    async def grace(self, agent_id: str, status: str, until: float) -> None:
        self._local_agents.discard(agent_id)
        async with self._redis.pipeline(transaction=True) as tx:
            tx.delete(self._k("status", agent_id))
            tx.sadd(self._k("agents"), agent_id)
            tx.hset(self._k("graces"), agent_id, f"{status}|{until!r}")
            with guard():
                await tx.execute()

    async def graces(self) -> dict[str, tuple[str, float]]:
        with guard():
            raw: dict[str, str] = await self._redis.hgetall(self._k("graces"))
        found = {}
        for agent_id, value in raw.items():
            status, _, until = value.partition("|")
            found[agent_id] = (status, float(until))
        return found

    async def end_grace(self, agent_id: str) -> str | None:
        with guard():
            value = await self._end_grace([self._k("graces")], [agent_id])
        return None if value is None else str(value).partition("|")[0]

    async def _refresh_presence(self) -> None:
        """Keep the status of agents connected to this worker from expiring."""
        ttl_ms = int(self.presence_ttl * 1000)
        while True:
            await asyncio.sleep(self.presence_ttl / 4)
            if not self._local_agents:
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for agent_id in self._local_agents:
                        pipe.pexpire(self._k("status", agent_id), ttl_ms)
                    await pipe.execute()
            except DOWN as exc:
                log.warning("could not refresh agent presence: %s", exc)
