"""Workers on Redis keep relaying whatever another worker publishes: an event they cannot read
(from a worker of another version, during an upgrade) is skipped, and the next ones arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from chatserver.store.redis import RedisStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix


@pytest.fixture
async def two_workers() -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    prefix = unique_prefix()
    one, other = RedisStore(REDIS_URL, prefix=prefix), RedisStore(REDIS_URL, prefix=prefix)
    for store in (one, other):
        await store.start()
    yield one, other
    for store in (one, other):
        await store.close()
    await drop_keys(prefix)


async def test_an_unreadable_relayed_event_is_skipped_and_the_next_ones_still_arrive(
    two_workers: tuple[RedisStore, RedisStore],
) -> None:
    one, other = two_workers
    got: asyncio.Queue[tuple[str, int | None, str]] = asyncio.Queue()
    one.bus.set_listeners(
        lambda channel, seq, text: got.put_nowait((channel, seq, text)), lambda *_: None
    )
    await one.bus.follow("c:one")
    raw = aioredis.from_url(REDIS_URL)
    try:
        channel = one.prefix + "e:c:one"
        for payload in ("w-old:12/x/y:{}", "w-old:seven:text", "w-old:3/4/999:{not json"):
            assert await raw.publish(channel, payload) == 1  # the worker that follows it
    finally:
        await raw.aclose()
    await other.bus.publish("c:one", '{"seq": 13}', 13)
    assert await asyncio.wait_for(got.get(), 5) == ("c:one", 13, '{"seq": 13}')
    assert got.empty()
