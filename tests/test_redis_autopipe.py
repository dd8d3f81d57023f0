"""The Redis client's auto-pipelining on the real Redis: the commands of one loop pass share one
round trip, each caller gets its own reply (parsed as redis-py would), and one command's error
stays its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from chatserver.store._redis_base import connect
from tests._redis import REDIS_URL, drop_keys, unique_prefix

pytestmark = [pytest.mark.redis]


@pytest.fixture
async def client() -> AsyncIterator[tuple[aioredis.Redis, str]]:
    prefix = unique_prefix()
    redis = connect(REDIS_URL)
    yield redis, prefix
    await redis.aclose()
    await drop_keys(prefix)


async def test_a_burst_of_commands_in_one_loop_pass_goes_in_one_round_trip(
    client: tuple[aioredis.Redis, str],
) -> None:
    redis, prefix = client
    await redis.ping()
    pool = redis.connection_pool

    def made() -> int:
        return len(pool._available_connections) + len(pool._in_use_connections)  # type: ignore[attr-defined]

    made_before = made()
    replies = await asyncio.gather(*(redis.incr(f"{prefix}n") for _ in range(500)))
    assert sorted(replies) == list(range(1, 501)) and replies == sorted(replies)  # in order
    # 500 callers at once took one connection, not one each (the pool would make up to 64).
    assert made() - made_before <= 1


async def test_replies_have_redis_py_types_and_one_error_stays_with_its_command(
    client: tuple[aioredis.Redis, str],
) -> None:
    redis, prefix = client
    big = "é" * 100_000  # several reads: a reply parsed again once more bytes come
    await redis.hset(f"{prefix}h", mapping={"a": "1", "b": big})
    await redis.zadd(f"{prefix}z", {"x": 1.5})
    await redis.set(f"{prefix}s", "text")
    got = await asyncio.gather(
        redis.hgetall(f"{prefix}h"),
        redis.get(f"{prefix}missing"),
        redis.hget(f"{prefix}s", "field"),  # WRONGTYPE: this caller's error only
        redis.zscore(f"{prefix}z", "x"),
        redis.zrange(f"{prefix}z", 0, -1, withscores=True),
        redis.exists(f"{prefix}s"),
        redis.xadd(f"{prefix}x", {"b": "v"}, id="1-0"),
        redis.xrange(f"{prefix}x"),
        return_exceptions=True,
    )
    assert got[0] == {"a": "1", "b": big}
    assert got[1] is None
    assert isinstance(got[2], ResponseError) and "WRONGTYPE" in str(got[2])
    assert got[3] == 1.5
    assert [tuple(pair) for pair in got[4]] == [("x", 1.5)]  # type: ignore[union-attr]
    assert got[5] == 1 and got[6] == "1-0"
    assert got[7] == [("1-0", {"b": "v"})]


async def test_scripts_run_batched_and_survive_being_unknown_to_the_server(
    client: tuple[aioredis.Redis, str],
) -> None:
    redis, prefix = client
    # A script Redis has never seen: EVALSHA fails with NOSCRIPT, redis-py loads it and retries.
    script = redis.register_script(f"return {{KEYS[1], ARGV[1], '{unique_prefix()}'}}")
    replies = await asyncio.gather(*(script([f"{prefix}k"], [str(i)]) for i in range(50)))
    assert [reply[1] for reply in replies] == [str(i) for i in range(50)]
