"""Adapters of the Reviews port: in memory, in the SQLite file, in Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from chatserver.store._redis_base import Keys, guard
from chatserver.store._sqlite_db import Database
from chatserver.store.review_ports import Reviews

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    conversation_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    score REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_agent ON reviews (agent_id, score);
CREATE INDEX IF NOT EXISTS reviews_score ON reviews (score);
"""


class MemoryReviews(Reviews):
    """Reviews in a dictionary."""

    def __init__(self) -> None:
        self._reviews: dict[str, tuple[str, float, str]] = {}

    async def put(self, conversation_id: str, agent_id: str, score: float, text: str) -> None:
        self._reviews[conversation_id] = (agent_id, score, text)

    async def get(self, conversation_id: str) -> str | None:
        found = self._reviews.get(conversation_id)
        return found[2] if found else None

    async def of_agent(self, agent_id: str, limit: int = 100) -> list[str]:
        mine = [(s, c, t) for c, (a, s, t) in self._reviews.items() if a == agent_id]
        return [t for _, _, t in sorted(mine, reverse=True)[:limit]]

    async def between(self, since: float, until: float) -> list[str]:
        found = [(s, c, t) for c, (_, s, t) in self._reviews.items() if since <= s < until]
        return [t for _, _, t in sorted(found, reverse=True)]


class SQLiteReviews(Reviews):
    """Reviews in one table, indexed by agent and by the conversation's creation time."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, conversation_id: str, agent_id: str, score: float, text: str) -> None:
        await self._db.write(
            [
                (
                    "INSERT OR REPLACE INTO reviews (conversation_id, agent_id, score, body) "
                    "VALUES (?, ?, ?, ?)",
                    (conversation_id, agent_id, score, text),
                )
            ]
        )

    async def get(self, conversation_id: str) -> str | None:
        rows = await self._db.read(
            "SELECT body FROM reviews WHERE conversation_id = ?", (conversation_id,)
        )
        return rows[0][0] if rows else None

    async def of_agent(self, agent_id: str, limit: int = 100) -> list[str]:
        rows = await self._db.read(
            "SELECT body FROM reviews WHERE agent_id = ? "
            "ORDER BY score DESC, conversation_id DESC LIMIT ?",
            (agent_id, limit),
        )
        return [row[0] for row in rows]

    async def between(self, since: float, until: float) -> list[str]:
        rows = await self._db.read(
            "SELECT body FROM reviews WHERE score >= ? AND score < ? "
            "ORDER BY score DESC, conversation_id DESC",
            (since, until),
        )
        return [row[0] for row in rows]


class RedisReviews(Reviews):
    """Reviews in a hash; sorted sets by creation time, all and per agent (one MULTI/EXEC)."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._bodies = keys("reviews", "body")
        self._all = keys("reviews", "all")

    def _of(self, agent_id: str) -> str:
        return self._keys("reviews", "agent", agent_id)

    async def put(self, conversation_id: str, agent_id: str, score: float, text: str) -> None:
        with guard():
            async with self._redis.pipeline(transaction=True) as tx:
                tx.hset(self._bodies, conversation_id, text)
                tx.zadd(self._all, {conversation_id: score})
                tx.zadd(self._of(agent_id), {conversation_id: score})
                await tx.execute()

    async def get(self, conversation_id: str) -> str | None:
        with guard():
            found = await self._redis.hget(self._bodies, conversation_id)
        return _text(found) if found is not None else None

    async def of_agent(self, agent_id: str, limit: int = 100) -> list[str]:
        with guard():
            ids = await self._redis.zrange(self._of(agent_id), 0, limit - 1, desc=True)
            return await self._bodies_of(ids)

    async def between(self, since: float, until: float) -> list[str]:
        with guard():
            ids = await self._redis.zrange(self._all, f"({until}", since, desc=True, byscore=True)
            return await self._bodies_of(ids)

    async def _bodies_of(self, ids: Sequence[Any]) -> list[str]:
        if not ids:
            return []
        found = await self._redis.hmget(self._bodies, ids)
        return [_text(body) for body in found if body is not None]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
