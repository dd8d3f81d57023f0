"""Claims on Redis read the queue from its head in pages: one far down it is still found."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatserver.store._redis_base import Keys, connect
from chatserver.store.ports import Claim
from chatserver.store.redis_router import RedisRouter
from tests._redis import REDIS_URL, drop_keys, unique_prefix

pytestmark = pytest.mark.redis


@pytest.fixture
async def router() -> AsyncIterator[RedisRouter]:
    prefix = unique_prefix()
    client = connect(REDIS_URL)
    yield RedisRouter(client, Keys(prefix), 60)
    await client.aclose()
    await drop_keys(prefix)


@pytest.mark.parametrize("position", [0, 15, 16, 17, 100, 1500])
async def test_the_first_chat_an_agent_may_take_is_claimed_wherever_it_waits(
    router: RedisRouter, position: int
) -> None:
    await router.set_presence("anna", "online", 5, 0.0, ["en"])
    for n in range(position):
        await router.enqueue(f"de-{n}", language="de", anyone_from=1e9)  # only for German
    await router.enqueue("en-1", language="en", anyone_from=1e9)
    await router.enqueue("en-2", language="en", anyone_from=1e9)
    assert await router.claim_next(10.0) == Claim("en-1", "anna")
    assert await router.claim_next(10.0) == Claim("en-2", "anna")
    assert await router.claim_next(10.0) is None  # nobody here speaks German
    assert await router.waiting() == [f"de-{n}" for n in range(position)]
    if position:  # once anyone may take them, the head goes first
        assert await router.claim_next(2e9) == Claim("de-0", "anna")
