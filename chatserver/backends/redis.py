"""The scale-out backend: every worker shares one Redis (streams, hashes, Lua, pub/sub).

Keys, all under ``prefix``:

- ``log:<c>`` a stream, one entry per event with id ``<seq>-0``; ``seq:<c>`` its counter;
  ``cids:<c>`` client_id -> seq, for idempotent sends.
- ``conv:<c>`` a conversation's record (field -> JSON text); ``shopper:<s>`` and
  ``conversations`` sorted sets by creation time.
- ``queue`` a list, head first; ``agents`` a set of agent ids known to routing;
  ``presence:<a>`` capacity and idle time; ``status:<a>`` the status, expiring unless the worker
  holding the agent's socket refreshes it; ``chats:<a>`` the agent's open chats; ``holders``
  conversation -> agent.
- ``accounts`` agent id -> account JSON.
- pub/sub channels ``<prefix><channel>``: pub/sub ignores the database index, the prefix does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatserver.backends import _redis_scripts as lua
from chatserver.backends.base import (
    Appended,
    Backend,
    BackendUnavailable,
    Claim,
    Listener,
    Presence,
    Render,
)

log = logging.getLogger("chatserver.backends.redis")

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_MAX_CACHED_SEQS = 50_000


class RedisBackend(Backend):
    """Shared state in one Redis server, so several workers and machines serve one shop.

    Args:
        url: ``redis://`` or ``rediss://`` URL, with the database index as its path.
        prefix: put before every key and channel, so shops (or tests) can share a server.
        presence_ttl: seconds an agent's status outlives the last refresh by its worker; a worker
            that dies takes its agents offline after this long.
    """

    def __init__(self, url: str, prefix: str = "chat:", presence_ttl: float = 20.0) -> None:
        self.url = url
        self.prefix = prefix
        self.presence_ttl = presence_ttl
        # Quick, few retries: an outage must reach clients as an error frame within a second or
        # two, not hang their sends. Retried writes are safe: appends carry a nonce (see APPEND).
        # A blocking pool: a burst of requests waits for a free connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=5,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 3),
            # Without this list redis-py ignores ``retry`` (a stale pooled connection would fail).
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self._redis = aioredis.Redis.from_pool(pool)
        r = self._redis
        self._append = r.register_script(lua.APPEND)
        self._update = r.register_script(lua.UPDATE_IF_EXISTS)
        self._enqueue = r.register_script(lua.ENQUEUE)
        self._claim = r.register_script(lua.CLAIM_NEXT)
        self._assign = r.register_script(lua.ASSIGN)
        self._release = r.register_script(lua.RELEASE)
        self._set_presence = r.register_script(lua.SET_PRESENCE)
        self._presence = r.register_script(lua.PRESENCE)
        self._routing_keys = [self._k("queue"), self._k("agents"), self._k("holders")]
        self._last_seq: dict[str, int] = {}
        self._append_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._local_agents: set[str] = set()
        self._listener: Listener | None = None
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._sub_lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._worker = uuid.uuid4().hex[:12]
        self._closing = False

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a lost connection into BackendUnavailable, which the hub reports to clients."""
        try:
            yield
        except _DOWN as exc:
            raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        with self._guard():
            await self._redis.ping()
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-pubsub"),
            asyncio.create_task(self._refresh_presence(), name="redis-presence"),
        ]

    async def close(self) -> None:
        self._closing = True
        # redis-py's get_message can swallow a cancellation; cancel until the task has ended.
        while pending := [t for t in self._tasks if not t.done()]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=0.05)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._pubsub is not None:
            with contextlib.suppress(*_DOWN):
                await self._pubsub.aclose()
            self._pubsub = None
        await self._redis.aclose()

    # --- conversation log -------------------------------------------------------------------

    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> Appended:
        # Appends to one conversation from this worker queue up instead of racing; appends from
        # other workers are caught by the script's compare-and-set and retried with the new seq.
        lock, users = self._append_locks.get(conversation_id, (asyncio.Lock(), 0))
        self._append_locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._append_once(conversation_id, render, client_id, fields)
        finally:
            lock, users = self._append_locks[conversation_id]
            if users == 1:
                del self._append_locks[conversation_id]
            else:
                self._append_locks[conversation_id] = (lock, users - 1)

    async def _append_once(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None,
        fields: Mapping[str, str] | None,
    ) -> Appended:
        keys = [self._k("seq", conversation_id), self._k("log", conversation_id)]
        keys += [self._k("cids", conversation_id), self._k("conv", conversation_id)]
        record = [item for pair in (fields or {}).items() for item in pair]
        nonce = uuid.uuid4().hex[:16]
        expected = self._last_seq.get(conversation_id, 0)
        while True:
            text = render(expected + 1)
            with self._guard():
                reply = await self._append(keys, [expected, text, client_id or "", nonce, *record])
            outcome = reply[0]
            if outcome == "conflict":
                expected = int(reply[1])
                continue
            seq = int(reply[1])
            if len(self._last_seq) > _MAX_CACHED_SEQS:
                self._last_seq.clear()
            self._last_seq[conversation_id] = max(seq, self._last_seq.get(conversation_id, 0))
            if outcome == "ok":
                return Appended(seq, text)
            return Appended(seq, reply[2], duplicate=reply[3] != nonce)

    async def read_log(self, conversation_id: str, after_seq: int = 0) -> list[tuple[int, str]]:
        with self._guard():
            rows = await self._redis.xrange(self._k("log", conversation_id), f"{after_seq + 1}-0")
        return [(int(entry_id.partition("-")[0]), str(fields["b"])) for entry_id, fields in rows]

    # --- conversation records --------------------------------------------------------------

    async def create_conversation(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        created_at = float(fields.get("created_at", "0"))
        async with self._redis.pipeline(transaction=True) as tx:
            tx.hset(self._k("conv", conversation_id), mapping=dict(fields))
            tx.zadd(self._k("shopper", shopper_id), {conversation_id: created_at})
            tx.zadd(self._k("conversations"), {conversation_id: created_at})
            with self._guard():
                await tx.execute()

    async def update_conversation(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        if not fields:
            if await self.get_conversation(conversation_id) is None:
                raise KeyError(conversation_id)
            return
        flat = [item for pair in fields.items() for item in pair]
        with self._guard():
            found = await self._update([self._k("conv", conversation_id)], flat)
        if not found:
            raise KeyError(conversation_id)

    async def get_conversation(self, conversation_id: str) -> dict[str, str] | None:
        with self._guard():
            doc: dict[str, str] = await self._redis.hgetall(self._k("conv", conversation_id))
        return doc or None

    async def shopper_conversations(self, shopper_id: str) -> list[str]:
        with self._guard():
            return list(await self._redis.zrange(self._k("shopper", shopper_id), 0, -1))

    async def list_conversations(self, since: float, until: float) -> list[dict[str, str]]:
        with self._guard():
            ids = await self._redis.zrangebyscore(self._k("conversations"), since, f"({until}")
            async with self._redis.pipeline(transaction=False) as pipe:
                for conversation_id in ids:
                    pipe.hgetall(self._k("conv", conversation_id))
                docs = await pipe.execute()
        return [doc for doc in docs if doc]

    # --- queue and routing -------------------------------------------------------------------

    async def _route(self, script: Any, *args: object) -> Any:
        with self._guard():
            return await script(self._routing_keys, [self.prefix, *args])

    async def enqueue(self, conversation_id: str, at_head: bool = False) -> None:
        with self._guard():
            await self._enqueue([self._k("queue")], [conversation_id, "1" if at_head else "0"])

    async def dequeue(self, conversation_id: str) -> bool:
        with self._guard():
            return bool(await self._redis.lrem(self._k("queue"), 1, conversation_id))

    async def queue(self) -> list[str]:
        with self._guard():
            return list(await self._redis.lrange(self._k("queue"), 0, -1))

    async def set_presence(self, agent_id: str, status: str, capacity: int, now: float) -> Presence:
        ttl_ms = int(self.presence_ttl * 1000)
        reply = await self._route(self._set_presence, agent_id, status, capacity, repr(now), ttl_ms)
        if status == "offline":
            self._local_agents.discard(agent_id)
        else:
            self._local_agents.add(agent_id)
        return Presence(agent_id, reply[0], int(reply[1]), int(reply[2]), float(reply[3]))

    async def presence(self) -> list[Presence]:
        flat = await self._route(self._presence)
        agents = [
            Presence(flat[i], flat[i + 1], int(flat[i + 2]), int(flat[i + 3]), float(flat[i + 4]))
            for i in range(0, len(flat), 5)
        ]
        return sorted(agents, key=lambda a: a.agent_id)

    async def claim_next(self, now: float) -> Claim | None:
        reply = await self._route(self._claim, repr(now))
        return Claim(reply[0], reply[1]) if reply else None

    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        return bool(await self._route(self._assign, repr(now), conversation_id, agent_id))

    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        await self._route(self._release, repr(now), agent_id, conversation_id)

    async def agent_chats(self) -> dict[str, list[str]]:
        with self._guard():
            holders: dict[str, str] = await self._redis.hgetall(self._k("holders"))
        chats: dict[str, list[str]] = {}
        for conversation_id, agent_id in sorted(holders.items()):
            chats.setdefault(agent_id, []).append(conversation_id)
        return chats

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
            except _DOWN as exc:
                log.warning("could not refresh agent presence: %s", exc)

    # --- fan-out ---------------------------------------------------------------------------
    # A message is "<worker>:<seq>:<text>", with an empty seq for live notices that are not stored.

    def set_listener(self, listener: Listener) -> None:
        self._listener = listener

    async def subscribe(self, channel: str) -> None:
        """Subscribe, and return once Redis confirms (so no later publish can be missed).

        While Redis is unreachable the channel is only remembered: the listener subscribes to
        every remembered channel when it reconnects, and sessions fill gaps from the log.
        """
        async with self._sub_lock:
            if channel in self._channels:
                return
            self._channels.add(channel)
            confirmed = await self._send_subscription("subscribe", channel)
        if confirmed is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(confirmed), 2.0)

    async def unsubscribe(self, channel: str) -> None:
        async with self._sub_lock:
            if channel not in self._channels:
                return
            self._channels.discard(channel)
            await self._send_subscription("unsubscribe", channel)

    async def _send_subscription(self, verb: str, channel: str) -> asyncio.Future[None] | None:
        if self._pubsub is None:
            return None
        full = self.prefix + channel
        confirmed = asyncio.get_running_loop().create_future()
        if verb == "subscribe":
            self._confirmed[full] = confirmed
        try:
            await getattr(self._pubsub, verb)(full)
        except _DOWN:
            self._confirmed.pop(full, None)
            return None  # the listener resubscribes when it reconnects
        return confirmed

    async def publish(self, channel: str, text: str, seq: int | None = None) -> None:
        # This worker's own sessions get the message at once, in the order it was stored, as on
        # the embedded backend; the listener skips the copy Redis echoes back to us.
        if channel in self._channels:
            self._deliver(channel, seq, text)
        payload = f"{self._worker}:{'' if seq is None else seq}:{text}"
        with self._guard():
            await self._redis.publish(self.prefix + channel, payload)

    async def _listen(self) -> None:
        """Deliver published messages to the listener; reconnect and resubscribe after a loss."""
        delay = 0.05
        control = self.prefix + "~"  # always subscribed: a pub/sub connection must have one
        while not self._closing:
            pubsub = self._redis.pubsub()
            try:
                async with self._sub_lock:
                    await pubsub.subscribe(control, *(self.prefix + c for c in self._channels))
                    self._pubsub = pubsub
                while not self._closing:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        delay = 0.05
                        self._dispatch(message)
            except _DOWN as exc:
                log.warning("pub/sub connection to Redis lost (%s); reconnecting", exc)
            finally:
                if self._pubsub is pubsub:
                    self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _dispatch(self, message: dict[str, Any]) -> None:
        full: str = message["channel"]
        if message["type"] == "subscribe":
            confirmed = self._confirmed.pop(full, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if message["type"] != "message":
            return
        channel = full.removeprefix(self.prefix)
        worker, _, rest = message["data"].partition(":")
        if channel in self._channels and worker != self._worker:
            seq, _, text = rest.partition(":")
            self._deliver(channel, int(seq) if seq else None, text)

    def _deliver(self, channel: str, seq: int | None, text: str) -> None:
        if self._listener is None:
            return
        try:
            self._listener(channel, seq, text)
        except Exception:
            log.exception("listener failed on channel %s", channel)

    # --- agent accounts ----------------------------------------------------------------------

    async def put_agent(self, agent_id: str, record: str) -> None:
        with self._guard():
            await self._redis.hset(self._k("accounts"), agent_id, record)

    async def get_agent(self, agent_id: str) -> str | None:
        with self._guard():
            record: str | None = await self._redis.hget(self._k("accounts"), agent_id)
        return record

    async def list_agents(self) -> list[str]:
        with self._guard():
            records: dict[str, str] = await self._redis.hgetall(self._k("accounts"))
        return [records[agent_id] for agent_id in sorted(records)]

    async def remove_agent(self, agent_id: str) -> bool:
        with self._guard():
            return bool(await self._redis.hdel(self._k("accounts"), agent_id))
