"""Trays and full-text search in Redis, shared by every worker.

Trays: ``tray:<name>`` a sorted set of item ids by score, ``trayitem:<name>`` their payloads.
Search (RediSearch is not assumed): an inverted index written whenever a conversation is indexed,
in one Lua call: ``sw:<word>`` a sorted set of the conversations holding that word, scored by
creation time; ``sd:<c>`` a conversation's words (to drop old postings on re-indexing);
``sdocs`` every indexed conversation. A search reads the rarest word's set newest first, in
growing pages within the date range, and keeps the ids every other word's set holds (``ZMSCORE``),
until it has enough: common words never build their whole intersection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis

from chatserver.store._redis_base import Keys, guard, lua
from chatserver.store.ports import Search, TrayItem, Trays


class RedisTrays(Trays):
    """Each tray a sorted set and a hash; ``move`` is one Lua call."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._k = keys
        self._move = client.register_script(lua("tray_move"))

    async def put(self, tray: str, item_id: str, score: float, text: str) -> None:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.hset(self._k("trayitem", tray), item_id, text)
            tx.zadd(self._k("tray", tray), {item_id: score})
            with guard():
                await tx.execute()

    async def items(
        self, tray: str, until: float = float("inf"), limit: int = 500
    ) -> list[TrayItem]:
        high = "+inf" if until == float("inf") else repr(until)
        with guard():
            scored = cast(
                list[tuple[str, float]],
                await self._redis.zrangebyscore(
                    self._k("tray", tray), "-inf", high, start=0, num=limit, withscores=True
                ),
            )
            if not scored:
                return []
            texts = await self._redis.hmget(self._k("trayitem", tray), [i for i, _ in scored])
        return [
            TrayItem(i, float(s), str(t))
            for (i, s), t in zip(scored, texts, strict=True)
            if t is not None
        ]

    async def get(self, tray: str, item_id: str) -> TrayItem | None:
        with guard():
            score: float | None = await self._redis.zscore(self._k("tray", tray), item_id)
            text = await self._redis.hget(self._k("trayitem", tray), item_id)
        return None if score is None or text is None else TrayItem(item_id, float(score), str(text))

    async def move(self, tray: str, item_id: str, expected: float, score: float) -> bool:
        with guard():
            moved = await self._move(
                [self._k("tray", tray)], [item_id, repr(expected), repr(score)]
            )
        return bool(moved)

    async def remove(self, tray: str, item_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.zrem(self._k("tray", tray), item_id)
            tx.hdel(self._k("trayitem", tray), item_id)
            with guard():
                removed, _ = await tx.execute()
        return bool(removed)


class RedisSearch(Search):
    """An inverted index in sorted sets, written and read by Lua scripts."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._k = keys
        self._index = client.register_script(lua("search_index"))
        self._find = client.register_script(lua("search_find"))

    async def index(self, conversation_id: str, created_at: float, words: Sequence[str]) -> None:
        keys = [self._k("sd", conversation_id), self._k("sdocs")]
        with guard():
            await self._index(keys, [self._k(""), conversation_id, repr(created_at), *words])

    async def find(
        self, words: Sequence[str], since: float, until: float, limit: int = 50
    ) -> list[str]:
        keys = [self._k("sdocs")]
        bounds = [_score(since), _score(until), str(limit)]
        with guard():
            found = await self._find(keys, [self._k(""), *bounds, *words])
        return [str(c) for c in found]


def _score(at: float) -> str:
    if at == float("inf"):
        return "+inf"
    return "-inf" if at == float("-inf") else repr(at)
