"""The scale-out store: every worker shares one Redis (streams, hashes, Lua, pub/sub).

Keys, all under the prefix: ``log:<c>`` a stream, one entry per event with id ``<seq>-0``;
``seq:<c>`` its counter; ``cids:<c>`` client_id -> seq, for idempotent sends; ``conv:<c>`` a
conversation's record (field -> JSON text); ``rev:<c>`` its revision, raised by every write of
it but its creation (appends given an expected revision store only while it is unchanged); ``shopper:<s>`` and ``conversations`` sorted sets
by creation time; ``accounts`` agent id -> account JSON. Routing keys: see ``redis_router``;
trays and search: see ``redis_extra``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence

import redis.asyncio as aioredis

from chatserver.store._cache import LRU
from chatserver.store._redis_base import Keys, Script, connect, guard
from chatserver.store.base import Store
from chatserver.store.bus import Bus
from chatserver.store.notice_adapters import RedisApiKeys, RedisLedger
from chatserver.store.ports import (
    AgentAccounts,
    Appended,
    Files,
    Log,
    RecordChanged,
    Records,
    Render,
)
from chatserver.store.redis_extra import RedisSearch, RedisTrays
from chatserver.store.redis_relay import RedisRelay
from chatserver.store.redis_router import RedisRouter
from chatserver.store.reviews import RedisReviews
from chatserver.store.shop_config import RedisShopConfig

_LOGS_IN_MEMORY = 20_000


class RedisLog(Log):
    """Each log a stream; appends run in a Lua script that checks the expected seq and, given
    ``relay`` (the bus's, on the same server), publishes the new event to other workers."""

    def __init__(self, client: aioredis.Redis, keys: Keys, relay: RedisRelay | None = None) -> None:
        self._redis = client
        self._k = keys
        self._relay = relay
        self._append = Script(client, "append")
        self._last_seq: LRU[str, int] = LRU(_LOGS_IN_MEMORY)
        # The last seq other workers relayed on a bus channel (so appends after theirs do not
        # find the log moved on); the channel's log is named by the append that publishes on it.
        self._relayed: LRU[str, int] = LRU(_LOGS_IN_MEMORY)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def relayed(self, channel: str, seq: int, rev: int | None, fields: dict[str, str]) -> None:
        """Another worker stored event ``seq`` on a bus channel (``Bus.on_stored``)."""
        if seq > (self._relayed.get(channel) or 0):
            self._relayed.put(channel, seq)

    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
        expected_rev: int | None = None,
    ) -> Appended:
        unpublished = ("", "", "", "")
        return await self._append_queued(
            conversation_id, render, client_id, fields, unpublished, expected_rev
        )

    async def append_published(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None,
        fields: Mapping[str, str] | None,
        bus: Bus,
        channel: str,
        expected_rev: int | None = None,
    ) -> Appended:
        if self._relay is None or bus.relay is not self._relay:
            return await super().append_published(
                conversation_id, render, client_id, fields, bus, channel, expected_rev
            )
        key, head, tail = bus.relayed_as(channel, fields)
        publish = (self._relay.channel_name(key), head, tail, channel)
        appended = await self._append_queued(
            conversation_id, render, client_id, fields, publish, expected_rev
        )
        if not appended.duplicate:
            bus.deliver_here(channel, appended.text, appended.seq)
        return appended

    async def _append_queued(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None,
        fields: Mapping[str, str] | None,
        publish: tuple[str, str, str, str],
        expected_rev: int | None,
    ) -> Appended:
        # ``publish``: the relay channel, the payload's head and tail (Bus.relayed_as) and the bus
        # channel, or "".
        # Appends to one conversation from this worker queue up instead of racing; appends from
        # other workers are caught by the script's compare-and-set and retried with the new seq.
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._append_once(
                    conversation_id, render, client_id, fields, publish, expected_rev
                )
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    async def _append_once(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None,
        fields: Mapping[str, str] | None,
        publish: tuple[str, str, str, str],
        expected_rev: int | None,
    ) -> Appended:
        k = self._k
        keys = [k("seq", conversation_id), k("log", conversation_id)]
        keys += [k("cids", conversation_id), k("conv", conversation_id), k("rev", conversation_id)]
        rev = "" if expected_rev is None else str(expected_rev)
        record = [item for pair in (fields or {}).items() for item in pair]
        nonce = os.urandom(8).hex()
        channel, head, tail, bus_channel = publish
        expected = self._last_seq.get(conversation_id) or 0
        if bus_channel:
            expected = max(expected, self._relayed.get(bus_channel) or 0)
        while True:
            text = render(expected + 1)
            with guard():
                reply = await self._append(
                    keys,
                    [expected, text, client_id or "", nonce, channel, head, rev, tail, *record],
                )
            outcome = reply[0]
            if outcome == "conflict":
                expected = int(reply[1])
                continue
            if outcome == "stale":
                raise RecordChanged(_record(reply[2]) or None, int(reply[1]))
            seq = int(reply[1])
            self._last_seq.put(conversation_id, max(seq, self._last_seq.get(conversation_id) or 0))
            if outcome == "ok":
                return Appended(seq, text, rev=int(reply[2]))
            return Appended(seq, reply[2], duplicate=reply[3] != nonce)

    async def read(
        self, conversation_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[tuple[int, str]]:
        with guard():
            rows = await self._redis.xrange(
                self._k("log", conversation_id), f"{after_seq + 1}-0", count=limit
            )
        return [(int(entry_id.partition("-")[0]), str(fields["b"])) for entry_id, fields in rows]

    async def find(self, conversation_id: str, client_id: str) -> Appended | None:
        with guard():
            known: str | None = await self._redis.hget(self._k("cids", conversation_id), client_id)
            if known is None:
                return None
            entry = f"{int(known)}-0"
            rows = await self._redis.xrange(self._k("log", conversation_id), entry, entry)
        return Appended(int(known), str(rows[0][1]["b"]), duplicate=True) if rows else None


class RedisRecords(Records):
    """Each record a hash; sorted sets find a shopper's conversations and a range of days."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._k = keys
        self._update = Script(client, "update_if_exists")
        self._open_or_create = Script(client, "open_or_create")
        self._move = Script(client, "move_conversation")
        self._latest = Script(client, "latest_of_shopper")
        self._get_revised = Script(client, "get_revised")

    async def create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        created_at = float(fields.get("created_at", "0"))
        async with self._redis.pipeline(transaction=True) as tx:
            tx.hset(self._k("conv", conversation_id), mapping=dict(fields))
            tx.zadd(self._k("shopper", shopper_id), {conversation_id: created_at})
            tx.zadd(self._k("conversations"), {conversation_id: created_at})
            with guard():
                await tx.execute()

    async def open_or_create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> str:
        k = self._k
        keys = [k("shopper", shopper_id), k("conv", conversation_id), k("conversations")]
        created_at = repr(float(fields.get("created_at", "0")))
        flat = [item for pair in fields.items() for item in pair]
        with guard():
            found = await self._open_or_create(keys, [k.prefix, conversation_id, created_at, *flat])
        return str(found)

    async def update(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        if not fields:
            if await self.get(conversation_id) is None:
                raise KeyError(conversation_id)
            return
        flat = [item for pair in fields.items() for item in pair]
        with guard():
            found = await self._update(
                [self._k("conv", conversation_id), self._k("rev", conversation_id)], flat
            )
        if not found:
            raise KeyError(conversation_id)

    async def get(self, conversation_id: str) -> dict[str, str] | None:
        with guard():
            doc: dict[str, str] = await self._redis.hgetall(self._k("conv", conversation_id))
        return doc or None

    async def latest_revised(
        self, shopper_id: str
    ) -> tuple[str, dict[str, str] | None, int] | None:
        with guard():
            found = await self._latest([self._k("shopper", shopper_id)], [self._k.prefix])
        if not found:
            return None
        conversation_id, flat, rev = found
        return str(conversation_id), _record(flat) or None, int(rev)

    async def get_revised(self, conversation_id: str) -> tuple[dict[str, str] | None, int]:
        keys = [self._k("conv", conversation_id), self._k("rev", conversation_id)]
        with guard():
            rev, flat = await self._get_revised(keys, [])
        return _record(flat) or None, int(rev)

    async def of_shopper(self, shopper_id: str) -> list[str]:
        with guard():
            return list(await self._redis.zrange(self._k("shopper", shopper_id), 0, -1))

    async def move(self, conversation_id: str, from_shopper: str, to_shopper: str) -> None:
        with guard():
            found = await self._move(
                [
                    self._k("conv", conversation_id),
                    self._k("shopper", from_shopper),
                    self._k("shopper", to_shopper),
                    self._k("rev", conversation_id),
                ],
                [conversation_id, json.dumps(to_shopper)],
            )
        if not found:
            raise KeyError(conversation_id)

    async def created_between(self, since: float, until: float) -> list[dict[str, str]]:
        with guard():
            ids = await self._redis.zrangebyscore(self._k("conversations"), since, f"({until}")
            async with self._redis.pipeline(transaction=False) as pipe:
                for conversation_id in ids:
                    pipe.hgetall(self._k("conv", conversation_id))
                docs = await pipe.execute()
        return [doc for doc in docs if doc]

    async def scan_fields(self, since: float, until: float, names: Sequence[str]) -> str:
        with guard():
            ids = await self._redis.zrangebyscore(self._k("conversations"), since, f"({until}")
            async with self._redis.pipeline(transaction=False) as pipe:
                for conversation_id in ids:
                    pipe.hmget(self._k("conv", conversation_id), list(names))
                rows = await pipe.execute()
        return (
            "["
            + ",".join("[" + ",".join(v or "null" for v in row) + "]" for row in rows if any(row))
            + "]"
        )


def _record(flat: Sequence[str]) -> dict[str, str]:
    """A record from HGETALL's reply inside a script (field, value, ...)."""
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}


class RedisAccounts(AgentAccounts):
    """Agent accounts in one hash."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._key = keys("accounts")

    async def put(self, agent_id: str, record: str) -> None:
        with guard():
            await self._redis.hset(self._key, agent_id, record)

    async def get(self, agent_id: str) -> str | None:
        with guard():
            record: str | None = await self._redis.hget(self._key, agent_id)
        return record

    async def all(self) -> list[str]:
        with guard():
            records: dict[str, str] = await self._redis.hgetall(self._key)
        return [records[agent_id] for agent_id in sorted(records)]

    async def remove(self, agent_id: str) -> bool:
        with guard():
            return bool(await self._redis.hdel(self._key, agent_id))


class RedisStore(Store):
    """Shared state in one Redis server, so several workers and machines serve one shop.

    Args:
        url: ``redis://`` or ``rediss://`` URL, with the database index as its path.
        prefix: put before every key and channel, so shops (or tests) can share a server.
        presence_ttl: seconds an agent's status outlives its worker's last refresh.
        files: where attachments go (``S3Files`` for several machines; default in memory).
    """

    def __init__(
        self,
        url: str,
        prefix: str = "chat:",
        presence_ttl: float = 20.0,
        files: Files | None = None,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self._redis = connect(url)
        keys = Keys(prefix)
        self.redis_router = RedisRouter(self._redis, keys, presence_ttl)
        relay = RedisRelay(self._redis, prefix)
        log = RedisLog(self._redis, keys, relay)
        bus = Bus(relay)
        bus.on_stored(log.relayed)
        super().__init__(
            log,
            RedisRecords(self._redis, keys),
            self.redis_router,
            RedisAccounts(self._redis, keys),
            bus,
            files,
            config=RedisShopConfig(self._redis, keys),
            trays=RedisTrays(self._redis, keys),
            search=RedisSearch(self._redis, keys),
            reviews=RedisReviews(self._redis, keys),
            api_keys=RedisApiKeys(self._redis, keys),
            ledger=RedisLedger(self._redis, keys),
        )

    async def start(self) -> None:
        with guard():
            await self._redis.ping()
        self.redis_router.start()
        await super().start()

    async def close(self) -> None:
        await super().close()
        await self.redis_router.close()
        await self._redis.aclose()
