"""One shopper in several tabs: each tab sees the conversation another started, on any worker;
two first messages at once start one conversation; a tab resumes by conversation."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._redis import REDIS_URL
from tests.conftest import Client, Server
from tests.test_multiworker import open_client
from tests.test_scaleout import Worker
from tests.test_scaleout import cluster as cluster  # the fixture: workers on one Redis


def hello(token: str | None = None, **resume: object) -> p.Hello:
    return p.Hello(version=p.PROTOCOL_VERSION, token=token, **resume)  # type: ignore[arg-type]


async def tab(url: str, token: str | None = None) -> tuple[Client, str]:
    """A shopper's tab on a worker, and the shopper's token."""
    client = await open_client(url, "/ws/shopper", hello(token))
    return client, token or client.all("welcome")[0]["token"]


@pytest.mark.slow
@pytest.mark.redis
async def test_a_tab_on_another_worker_sees_the_conversation_another_tab_starts(
    cluster: tuple[str, Worker],
) -> None:
    _, start = cluster
    (url_a, _), (url_b, _) = await start(), await start()
    first, token = await tab(url_a)
    second, _ = await tab(url_b, token)  # same shopper, another tab, another worker

    await first.send(p.SendMessage(client_id="m1", text="Do you ship to Norway?"))
    conversation_id = (await first.expect("ack", client_id="m1"))["conversation_id"]
    started = await second.expect("conversation_started", conversation_id=conversation_id)
    assert started["seq"] == 1
    await second.expect("message_posted", text="Do you ship to Norway?", author="shopper")

    # The other tab writes in it too, and the first tab sees that.
    await second.send(p.SendMessage(client_id="m2", text="And to Iceland?"))
    assert (await second.expect("ack", client_id="m2"))["conversation_id"] == conversation_id
    await first.expect("message_posted", text="And to Iceland?")

    # A later conversation, begun in the other tab, reaches the first one too.
    await second.send(p.EndConversation())
    await first.expect("conversation_closed", conversation_id=conversation_id)
    await second.send(p.SendMessage(client_id="m3", text="One more thing"))
    newer = (await second.expect("ack", client_id="m3"))["conversation_id"]
    assert newer != conversation_id
    await first.expect("conversation_started", conversation_id=newer, seq=1)
    await first.expect("message_posted", conversation_id=newer, text="One more thing")
    for client in (first, second):
        await client.close()


@pytest.mark.slow
@pytest.mark.redis
async def test_first_messages_through_two_workers_at_once_start_one_conversation(
    cluster: tuple[str, Worker],
) -> None:
    prefix, start = cluster
    (url_a, _), (url_b, _) = await start(), await start()
    store = RedisStore(REDIS_URL, prefix=prefix)
    for round_ in range(5):
        first, token = await tab(url_a)
        second, _ = await tab(url_b, token)
        # The same message, retried through the other worker in the same instant.
        message = p.SendMessage(client_id=f"m{round_}", text=f"Hello {round_}")
        await asyncio.gather(first.send(message), second.send(message))
        acks = [await c.expect("ack", client_id=f"m{round_}") for c in (first, second)]
        assert acks[0]["conversation_id"] == acks[1]["conversation_id"], f"round {round_}"
        assert acks[0]["seq"] == acks[1]["seq"]
        assert sorted(a["duplicate"] for a in acks) == [False, True]
        shopper_id = first.all("welcome")[0]["user_id"]
        assert await store.records.of_shopper(shopper_id) == [acks[0]["conversation_id"]]
        events = [json.loads(t) for _, t in await store.log.read(acks[0]["conversation_id"])]
        assert events[0]["type"] == "conversation_started"
        assert sum(e.get("text") == f"Hello {round_}" for e in events) == 1
        for client in (first, second):
            await client.close()
    await store.close()


async def test_a_tab_resuming_by_conversation_gets_a_newer_conversation_from_its_start(
    server: Server,
) -> None:
    first = await server.shopper()
    token = first.all("welcome")[0]["token"]
    await first.send(p.SendMessage(client_id="m1", text="Where is my parcel?"))
    old = (await first.expect("ack", client_id="m1"))["conversation_id"]
    await first.send(p.EndConversation())
    seen = (await first.expect("conversation_closed"))["seq"]
    await first.close()  # this tab sleeps (a laptop lid) ...
    await server.clock.advance(60)

    second = await server.shopper(token)  # ... while another tab starts a new conversation
    await second.send(p.SendMessage(client_id="m2", text="A new question"))
    newer = (await second.expect("ack", client_id="m2"))["conversation_id"]

    # The first tab wakes and resumes with its position in the conversation it knows.
    again = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await again.send(hello(token, last_seq=seen, last_seqs={old: seen}))
    welcome = await again.expect("welcome")
    assert [c["conversation_id"] for c in welcome["conversations"]] == [newer]
    await again.expect("conversation_started", conversation_id=newer, seq=1)
    await again.expect("message_posted", conversation_id=newer, text="A new question")
    assert not again.all("error")

    # A tab that names the newer conversation resumes after its position there.
    later = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await later.send(hello(token, last_seqs={newer: 1}))
    await later.expect("message_posted", conversation_id=newer, text="A new question")
    assert not later.all("conversation_started")
