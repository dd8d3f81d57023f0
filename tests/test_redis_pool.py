"""The Redis connection pool under load and in an outage: a busy pool slows senders down (never
an ``unavailable`` because every connection was in use); a Redis that is gone fails them fast."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import ServerFactory
from tests.test_multiworker import PrivateRedis
from tests.test_multiworker import private_redis as private_redis  # the fixture

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.mark.parametrize("backend_kind", ["redis"])
async def test_a_message_waits_for_a_free_connection_instead_of_failing(
    start_server: ServerFactory,
) -> None:
    prefix = unique_prefix()
    store = RedisStore(REDIS_URL, prefix=prefix)
    server = await start_server(store=store)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="first"))
    await shopper.expect("ack", client_id="m1")

    # Saturation: every connection of the pool is busy for longer than redis-py's usual wait.
    pool = store._redis.connection_pool
    busy = []
    while len(busy) < pool.max_connections:  # the pub/sub listener holds one already
        try:
            busy.append(await asyncio.wait_for(pool.get_connection(), 0.5))
        except TimeoutError:
            break
    await shopper.send(p.SendMessage(client_id="m2", text="while Redis is busy"))
    waited = time.monotonic() + 6  # longer than the 5 s a pool used to wait before refusing
    while (left := waited - time.monotonic()) > 0:
        try:
            shopper.received.append(json.loads(await asyncio.wait_for(shopper.ws.recv(), left)))
        except TimeoutError:
            break
    assert not shopper.all("error") and len(shopper.all("ack")) == 1  # it waits: not refused
    for connection in busy:
        await pool.release(connection)
    await shopper.expect("ack", client_id="m2")
    assert not shopper.all("error")
    await drop_keys(prefix)


@pytest.mark.parametrize("backend_kind", ["redis"])
async def test_a_redis_that_is_gone_fails_sends_at_once(
    start_server: ServerFactory, private_redis: PrivateRedis
) -> None:
    server = await start_server(store=RedisStore(private_redis.url))
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="before"))
    await shopper.expect("ack", client_id="m1")

    await private_redis.stop()
    took = []
    for _ in range(5):
        sent = time.monotonic()
        await shopper.send(p.SendMessage(client_id="m2", text="during"))
        error = await shopper.expect("error", code="unavailable")
        took.append(time.monotonic() - sent)
        assert "temporarily unavailable" in error["message"]
    print(f"unavailable after {[round(t * 1000) for t in took]} ms")
    # Detection well under 0.1 s, then at once (slack for a loaded machine; it took 0.2-0.5 s).
    assert sorted(took)[2] < 0.05 and max(took) < 0.25, took

    # Recovering once it is back: tests/test_multiworker.py (the worker that loses Redis).
