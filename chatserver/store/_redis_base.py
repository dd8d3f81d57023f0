"""What the Redis adapters share: the client, key names, the Lua scripts, and outage errors.

Lua scripts live in ``lua/*.lua`` and run atomically inside Redis, so workers never race. The
routing scripts build agent keys from the prefix (``ARGV[1]``) instead of declaring them all in
``KEYS``: fine on one Redis server, which is what this store targets (not Redis Cluster). Times
go in and out as the strings Python wrote, because Redis truncates Lua numbers to integers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatserver.store._redis_autopipe import AutoPipelinedRedis
from chatserver.store._redis_pool import WaitingPool
from chatserver.store.ports import StoreUnavailable

DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

_ROUTING_SCRIPTS = {"pick", "claim_next", "assign", "release", "set_presence", "presence"}


@cache
def lua(name: str) -> str:
    """The text of ``lua/<name>.lua``; routing scripts get the shared helpers before them."""
    folder = resources.files("chatserver.store") / "lua"
    text = (folder / f"{name}.lua").read_text(encoding="utf-8")
    if name in _ROUTING_SCRIPTS:
        text = (folder / "_routing.lua").read_text(encoding="utf-8") + text
    return text


class Script:
    """A Lua script run by its SHA1, loaded again if Redis lost it: what redis-py's
    ``register_script`` gives, without its checks on every call (a third of the client's time
    for an append)."""

    def __init__(self, client: aioredis.Redis, name: str) -> None:
        self._client = client
        self._text = lua(name)
        self.sha = hashlib.sha1(self._text.encode()).hexdigest()

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any] = ()) -> Any:
        run = self._client.execute_command
        try:
            return await run("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.sha = await self._client.script_load(self._text)
            return await run("EVALSHA", self.sha, len(keys), *keys, *args)


def connect(url: str, max_connections: int = 64) -> aioredis.Redis:
    """A client for ``url`` that pipelines the commands of each loop pass, waits for a free
    connection and retries a stale one."""
    # Quick, few retries: an outage must reach clients as an error frame at once, not hang their
    # sends. Retried writes are safe: appends carry a nonce (append.lua). The pool waits for a
    # free connection as long as it takes (backpressure) and fails fast once Redis is gone.
    pool = WaitingPool.from_url(
        url,
        max_connections=max_connections,
        decode_responses=True,
        socket_connect_timeout=2,  # a busy event loop is not a Redis that is gone
        socket_timeout=5,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), 3),  # < 0.1 s in all
        # Without this list redis-py ignores ``retry`` (a stale pooled connection would fail).
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return AutoPipelinedRedis.from_pool(pool)


class Keys:
    """Key names under one prefix, so shops (or tests) can share a server."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)


class _Guard:
    """Turns a lost connection into StoreUnavailable (a class: it runs on every command, and
    a generator-based context manager costs several times as much)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: Any
    ) -> None:
        if exc is not None and isinstance(exc, DOWN):
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc


_GUARD = _Guard()


def guard() -> _Guard:
    """Turn a lost connection into StoreUnavailable, which the hub reports to clients."""
    return _GUARD
