"""The Redis connection pool: a busy Redis slows callers down, a Redis that is gone fails them fast.

Waiting for a free connection is backpressure, so it has no time limit: a burst queues up and is
served in turn, never refused because 64 connections were busy. A connection that cannot be
made (refused at once when the server is down or restarting; or not made within the connect
timeout, 2 s, so that a busy event loop is not taken for an outage) means Redis is gone: from then on every caller fails at once (``ConnectionError``, which
the adapters turn into ``StoreUnavailable``), waiters included, until a probe (one ``PING`` on
a fresh connection every ``probe_interval``) gets an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("chatserver.store.redis")

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class WaitingPool(BlockingConnectionPool):
    """A blocking pool that waits without limit while Redis answers and refuses while it does not."""

    def __init__(self, probe_interval: float = 0.05, **kwargs: Any) -> None:
        super().__init__(timeout=None, **kwargs)
        self.probe_interval = probe_interval
        self.down = False
        self._prober: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        self._refuse_if_down()
        async with self._condition:
            await self._condition.wait_for(lambda: self.down or self.can_get_connection())
            self._refuse_if_down()
            connection = self.get_available_connection()
        try:
            await self.ensure_connection(connection)
        except BaseException as exc:
            await self.release(connection)
            if isinstance(exc, _DOWN):
                await self._went_down(exc)
            raise
        return connection

    def make_connection(self) -> AbstractConnection:
        connection = super().make_connection()
        # A command on a pooled connection reconnects by itself (redis-py 8 through
        # ``connect_check_health``): its failure counts too, and its retries fail at once
        # while Redis is known to be gone.
        for name in ("connect", "connect_check_health"):
            if hasattr(connection, name):
                setattr(connection, name, self._reporting(getattr(connection, name)))
        return connection

    def _reporting(self, connect: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def connect_or_report(*args: Any, **kwargs: Any) -> None:
            self._refuse_if_down()
            try:
                await connect(*args, **kwargs)
            except _DOWN as exc:
                await self._went_down(exc)
                raise

        return connect_or_report

    def _refuse_if_down(self) -> None:
        if self.down:
            raise RedisConnectionError("Redis is down (no answer to the last connection)")

    async def _went_down(self, exc: BaseException) -> None:
        if self.down:
            return
        log.warning("Redis is unreachable (%s): failing fast until it answers", exc)
        self.down = True
        self._prober = asyncio.get_running_loop().create_task(self._probe(), name="redis-probe")
        async with self._condition:
            self._condition.notify_all()  # waiters fail now, not when a connection frees up

    async def _probe(self) -> None:
        kwargs = {**self.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
        while self.down:
            await asyncio.sleep(self.probe_interval)
            connection = self.connection_class(**kwargs)
            try:
                await connection.connect()
                await connection.send_command("PING")
                await connection.read_response()
            except Exception:  # still gone (or not ready: loading its data)
                continue
            finally:
                with contextlib.suppress(*_DOWN):
                    await connection.disconnect()
            log.warning("Redis answers again")
            self.down = False

    async def disconnect(self, inuse_connections: bool = True) -> None:
        if self._prober is not None:
            self._prober.cancel()
            await asyncio.gather(self._prober, return_exceptions=True)
        await super().disconnect(inuse_connections)
