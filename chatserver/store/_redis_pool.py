"""The Redis connection pool: a busy Redis slows callers down, a Redis that is gone fails them fast.

Waiting for a free connection is backpressure, so it has no time limit: a burst queues up and is
served in turn, never refused because 64 connections were busy. A connection that cannot be
made (refused at once when the server is down or restarting; or not made within the connect
timeout, 2 s, so that a busy event loop is not taken for an outage) means Redis is gone: for the
next ``pause`` seconds every caller fails at once (``ConnectionError``, which the adapters turn
into ``StoreUnavailable``), waiters included; then the next caller tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("chatserver.store.redis")

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class _Refused(RedisConnectionError):
    """Raised at once while Redis is known to be gone (not a new sign that it is)."""


class WaitingPool(BlockingConnectionPool):
    """A blocking pool that waits without limit while Redis answers and refuses while it does not."""

    def __init__(self, pause: float = 0.05, **kwargs: Any) -> None:
        super().__init__(timeout=None, **kwargs)
        self.pause = pause
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

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
            if isinstance(exc, _DOWN) and not isinstance(exc, _Refused):
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
            except _Refused:
                raise
            except _DOWN as exc:
                await self._went_down(exc)
                raise

        return connect_or_report

    def _refuse_if_down(self) -> None:
        if self.down:
            raise _Refused("Redis is down (no answer to the last connection)")

    async def _went_down(self, exc: BaseException) -> None:
        if not self.down:
            log.warning("Redis is unreachable (%s): failing fast for %.2f s", exc, self.pause)
        self._down_until = time.monotonic() + self.pause
        async with self._condition:
            self._condition.notify_all()  # waiters fail now, not when a connection frees up
