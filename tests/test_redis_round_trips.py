"""Round trips to Redis per message, and messages sent at once to one conversation from two
workers: each stored event is one Lua call, and no change to the record is lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chatserver.core.auth import Tokens
from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.domain.bot import NoBot
from chatserver.domain.settings import Settings
from chatserver.store.redis import RedisStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import FakeClock
from tests.test_hub_unit import Peer, agent, shopper

pytestmark = pytest.mark.redis


@pytest.fixture
async def hubs(tmp_path: Path) -> AsyncIterator[list[Hub]]:
    """Two workers' hubs on one Redis prefix."""
    prefix = unique_prefix()
    made = []
    for n in range(2):
        store = RedisStore(REDIS_URL, prefix=prefix)
        settings = Settings(data_dir=tmp_path / str(n), faq_dir=tmp_path / "no-faq")
        hub = Hub(settings, store, Tokens("unit-test-secret", 3600), FakeClock(), NoBot())
        await store.start()
        await hub.start()
        made.append(hub)
    yield made
    for hub in made:
        await hub.close()
        await hub.store.close()
    await drop_keys(prefix)


class Commands:
    """Counts the commands a worker's Redis client sends (each still goes to Redis)."""

    def __init__(self, hub: Hub) -> None:
        self.sent: list[str] = []
        client = hub.store._redis  # type: ignore[attr-defined]
        real = client.execute_command

        async def counted(*args: Any, **options: Any) -> Any:
            self.sent.append(str(args[0]))
            return await real(*args, **options)

        client.execute_command = counted


async def until(check: Any, timeout: float = 5.0) -> None:
    """Wait (real time: Redis) until ``check()`` holds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def chat(hub: Hub, other: Hub) -> tuple[Peer, Peer, str]:
    """A shopper on ``hub`` whose chat an agent on ``other`` holds, one message each way."""
    alice = await agent(other)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m0", text="Is this in stock?"))
    await until(lambda: alice.frames("conversation_assigned"))
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="r0", text="Yes"))
    await until(lambda: len(bob.frames("message_posted")) == 2)
    return bob, alice, conversation_id


async def test_a_message_and_a_reply_are_one_redis_command_each_on_one_worker(
    hubs: list[Hub],
) -> None:
    hub = hubs[0]
    bob, alice, conversation_id = await chat(hub, hub)
    commands = Commands(hub)
    for n in range(1, 6):
        await bob.send(p.SendMessage(client_id=f"m{n}", text=f"question {n}"))
        await alice.send(
            p.SendMessage(conversation_id=conversation_id, client_id=f"r{n}", text=f"answer {n}")
        )
    assert commands.sent == ["EVALSHA"] * 10  # the append script: nothing read before it
    record = await hub.journal.get(conversation_id)
    assert record.messages == 12 and record.clock_started is None


async def test_a_chat_split_over_two_workers_is_one_redis_command_per_message(
    hubs: list[Hub],
) -> None:
    one, two = hubs
    bob, alice, conversation_id = await chat(one, two)  # bob on worker one, alice on two

    async def exchange(n: int) -> None:
        """A message from bob, then alice's reply, each once the other has seen the last."""
        await bob.send(p.SendMessage(client_id=f"m{n}", text=f"question {n}"))
        await until(lambda: len(alice.frames("message_posted")) == 2 * n + 1)
        await alice.send(
            p.SendMessage(conversation_id=conversation_id, client_id=f"r{n}", text=f"answer {n}")
        )
        await until(lambda: len(bob.frames("message_posted")) == 2 * n + 2)

    await exchange(1)  # worker one reads the record it has not read since it created it
    counts = [Commands(one), Commands(two)]
    for n in range(2, 12):
        await exchange(n)
    # Each worker learns the other's change (and seq) from the event it relays: no append is
    # refused or retried.
    assert [c.sent for c in counts] == [["EVALSHA"] * 10, ["EVALSHA"] * 10]
    assert bob.frames("error") == [] and alice.frames("error") == []
    for hub in hubs:
        record = await hub.journal.get(conversation_id)
        assert record.messages == 24 and record.clock_started is None
        assert len(record.response_times) == 12
    log = await one.store.log.read(conversation_id)
    assert [seq for seq, _ in log] == list(range(1, len(log) + 1))


async def test_messages_at_once_from_two_workers_lose_no_count_and_keep_the_clock(
    hubs: list[Hub],
) -> None:
    one, two = hubs
    bob, alice, conversation_id = await chat(one, two)
    for n in range(1, 21):
        await asyncio.gather(
            one.handle(bob.session, p.SendMessage(client_id=f"m{n}", text=f"question {n}")),
            two.handle(
                alice.session,
                p.SendMessage(conversation_id=conversation_id, client_id=f"r{n}", text="ok"),
            ),
        )
    log = await one.store.log.read(conversation_id)
    posted = [e for _, t in log if (e := json.loads(t))["type"] == "message_posted"]
    assert len(posted) == 42
    for hub in hubs:  # both workers' next read, and the store, count every message
        assert (await hub.journal.get(conversation_id)).messages == 42
    # The clock runs exactly when the last message is the shopper's (each worker's change was
    # made from the record as it was when stored).
    last_by_shopper = posted[-1]["author"] == "shopper"
    assert ((await one.journal.get(conversation_id)).clock_started is not None) == last_by_shopper


async def test_a_reply_through_a_worker_that_knew_the_chat_before_it_was_assigned_is_stored(
    hubs: list[Hub],
) -> None:
    one, two = hubs
    alice = await agent(two)
    await alice.send(p.SetStatus(status="away", capacity=2))
    bob = await shopper(one)
    await bob.send(p.SendMessage(client_id="m0", text="Anyone there?"))  # nobody online: waits
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    assert (await two.journal.get(conversation_id)).agent_id is None  # known on two, unassigned
    # Worker one gives it to alice (her socket is on two): two's record of it is now old.
    await one.store.router.set_presence("alice", "online", 2, one.clock.now(), ["en"])
    one.assigner.dispatch_soon()
    await until(lambda: alice.frames("conversation_assigned"))
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="r1", text="Yes"))
    assert alice.frames("error") == [] and len(alice.frames("ack")) == 1
    record = await one.journal.get(conversation_id)
    assert record.messages == 2 and record.agent_id == "alice"


async def test_a_message_to_the_chat_another_tab_started_on_another_worker_is_stored(
    hubs: list[Hub],
) -> None:
    one, two = hubs
    tab = await shopper(one)
    await tab.send(p.SendMessage(client_id="m0", text="First chat"))
    first = tab.frames("ack")[0]["conversation_id"]
    other = Peer(two, "shopper")
    token = tab.frames("welcome")[0]["token"]
    await two.connect_shopper(other.session, p.Hello(version=p.PROTOCOL_VERSION, token=token))
    # The other tab, through worker two, ends the chat and starts the next one.
    await other.send(p.EndConversation())
    await two.clock.advance(1)  # type: ignore[attr-defined]  # the next chat is the newer
    await other.send(p.SendMessage(client_id="n0", text="Second chat"))
    second = other.frames("ack")[0]["conversation_id"]
    assert second != first
    # Worker one still knows the first as the tab's newest; the message names the second.
    await tab.send(p.SendMessage(conversation_id=second, client_id="m1", text="More"))
    assert tab.frames("error") == [] and tab.frames("ack")[-1]["conversation_id"] == second
    assert (await one.journal.get(second)).messages == 2
