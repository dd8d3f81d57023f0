"""Live delivery never silently stops: an overflowing socket is closed, catch-up is paced."""

from __future__ import annotations

import asyncio
import contextlib

from websockets.exceptions import ConnectionClosed

from chatserver.domain import protocol as p
from tests.conftest import Client, ServerFactory

FAST = {"rate_limit_per_s": 100_000, "rate_limit_burst": 100_000}


async def close_code(client: Client) -> int | None:
    """Read everything the server sends until it closes the socket; the code it closed with."""

    async def read_to_the_end() -> None:
        while True:
            await client.ws.recv()

    with contextlib.suppress(ConnectionClosed):
        await asyncio.wait_for(read_to_the_end(), 10)
    return client.ws.close_code


async def test_a_client_whose_outbox_overflows_is_closed_with_1013(
    start_server: ServerFactory,
) -> None:
    """A burst larger than the socket's buffers and the outbox, while the client's own frames
    are being handled: the client is told (1013, resume with last_seq), never left on a socket
    that stays silent. (Frames go straight to the socket while it takes them; the outbox holds
    only what it cannot take yet.)"""
    server = await start_server(send_queue_size=8, **FAST)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(text="hi", client_id="m0"))
    conversation_id = (await shopper.expect("ack"))["conversation_id"]
    for i in range(3):
        await shopper.send(p.Typing(conversation_id=conversation_id, is_typing=i % 2 == 0))
    notice = p.TypingNotice(conversation_id=conversation_id, role="agent", is_typing=True)
    large = notice.model_dump_json() + " " * 2**20  # valid JSON, 1 MiB: fills the buffers
    for _ in range(64):  # delivered at once, as a burst from the bus would be
        server.hub.fanout.on_event(f"c:{conversation_id}", None, large)
    assert await close_code(shopper) == 1013


async def test_resuming_a_long_conversation_from_the_start_gets_every_event(
    start_server: ServerFactory,
) -> None:
    """301 events through an outbox of 8: the catch-up waits for the socket, never overflows."""
    server = await start_server(send_queue_size=8, **FAST)
    shopper = await server.shopper()
    for i in range(300):
        await shopper.send(p.SendMessage(text=f"message {i}", client_id=f"m{i}"))
        await shopper.expect("ack", client_id=f"m{i}")
    token = shopper.all("welcome")[0]["token"]
    await shopper.close()
    for _ in range(2):
        again = await server.shopper(token=token, last_seq=0)
        for i in range(300):
            await again.expect("message_posted", client_id=f"m{i}")
        await again.close()


async def test_a_retry_arriving_after_its_chat_closed_finds_the_original(
    start_server: ServerFactory,
) -> None:
    server = await start_server()
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(text="where is my parcel?", client_id="m1"))
    first = await shopper.expect("ack", client_id="m1")
    await shopper.send(p.EndConversation())
    await shopper.expect("conversation_closed")
    await shopper.send(p.SendMessage(text="where is my parcel?", client_id="m1"))  # a late retry
    again = await shopper.expect("ack", client_id="m1")
    assert again["duplicate"] and (again["conversation_id"], again["seq"]) == (
        first["conversation_id"],
        first["seq"],
    )
    assert shopper.all("conversation_started") == [shopper.all("conversation_started")[0]]
    welcome = shopper.all("welcome")[0]
    assert await server.hub.store.records.of_shopper(welcome["user_id"]) == [
        first["conversation_id"]
    ]
