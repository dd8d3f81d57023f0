"""The bus's relay between workers over Redis pub/sub, reconnecting and resubscribing by itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from chatserver.store._redis_base import DOWN, guard
from chatserver.store.ports import Deliver, Relay, Resumed

log = logging.getLogger("chatserver.store.redis")


class RedisRelay(Relay):
    """Pub/sub channels ``<prefix><channel>``: pub/sub ignores the database index, the prefix not."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._deliver: Deliver | None = None
        self._resumed: Resumed = lambda: None
        self._connected_before = False
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self, deliver: Deliver, resumed: Resumed) -> None:
        self._deliver, self._resumed = deliver, resumed
        self._task = asyncio.create_task(self._listen(), name="redis-pubsub")

    async def close(self) -> None:
        self._closing = True
        # redis-py's get_message can swallow a cancellation; cancel until the task has ended.
        while self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=0.05)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(*DOWN):
                await self._pubsub.aclose()
            self._pubsub = None

    async def subscribe(self, channel: str) -> None:
        """Subscribe, and return once Redis confirms (so no later publish can be missed).

        While Redis is unreachable the channel is only remembered: the listener subscribes to
        every remembered channel when it reconnects, and sessions fill gaps from the log.
        """
        async with self._lock:
            self._channels.add(channel)
            confirmed = await self._send("subscribe", channel)
        if confirmed is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(confirmed), 2.0)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            await self._send("unsubscribe", channel)

    def channel_name(self, channel: str) -> str:
        """The Redis pub/sub channel a bus channel travels on."""
        return self._prefix + channel

    async def publish(self, channel: str, payload: str) -> None:
        with guard():
            await self._redis.publish(self._prefix + channel, payload)

    async def _send(self, verb: str, channel: str) -> asyncio.Future[None] | None:
        if self._pubsub is None:
            return None
        full = self._prefix + channel
        confirmed = asyncio.get_running_loop().create_future()
        if verb == "subscribe":
            self._confirmed[full] = confirmed
        try:
            await getattr(self._pubsub, verb)(full)
        except DOWN:
            self._confirmed.pop(full, None)
            return None  # the listener resubscribes when it reconnects
        return confirmed

    async def _listen(self) -> None:
        """Hand relayed payloads on; reconnect and resubscribe after a loss."""
        delay = 0.05
        control = self._prefix + "~"  # always subscribed: a pub/sub connection must have one
        while not self._closing:
            pubsub = self._redis.pubsub()
            try:
                async with self._lock:
                    await pubsub.subscribe(control, *(self._prefix + c for c in self._channels))
                    self._pubsub = pubsub
                delay = 0.05
                await self._read(pubsub)
            except DOWN as exc:
                log.warning("pub/sub connection to Redis lost (%s); reconnecting", exc)
            finally:
                if self._pubsub is pubsub:
                    self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _read(self, pubsub: PubSub) -> None:
        """Hand on what the pub/sub connection brings, every reply in the bytes at hand parsed
        in one go by hiredis: messages straight to ``deliver`` (redis-py's ``get_message`` took
        more time than the append that published them); the rest (confirmations) through
        redis-py's own handling, which keeps its record of the channels."""
        connection = pubsub.connection
        if connection is None:
            raise RedisConnectionError("pub/sub is not connected")
        encoder = connection.encoder
        parser = hiredis.Reader(encoding=encoder.encoding, errors=encoder.encoding_errors)
        stream = connection._reader  # nothing else reads this connection
        if stream is None:
            raise RedisConnectionError("pub/sub is not connected")
        prefix = self._prefix
        while not self._closing:
            chunk = await stream.read(65536)
            if not chunk:
                raise RedisConnectionError("Connection closed by server.")
            parser.feed(chunk)
            while (reply := parser.gets()) is not False:
                if type(reply) is list and reply[0] == "message":
                    if self._deliver is not None:
                        self._deliver(reply[1].removeprefix(prefix), reply[2])
                    continue
                message = await pubsub.handle_message(reply)
                if message is not None:
                    self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        full: str = message["channel"]
        if message["type"] == "subscribe" and full == self._prefix + "~":
            # The control channel is confirmed once per connection: again means reconnected
            # (by us, or by redis-py's own retry), and what was published meanwhile is lost.
            if self._connected_before:
                self._resumed()
            self._connected_before = True
        if message["type"] == "subscribe":
            confirmed = self._confirmed.pop(full, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
        elif message["type"] == "message" and self._deliver is not None:
            self._deliver(full.removeprefix(self._prefix), message["data"])
