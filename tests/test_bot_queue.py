"""Inside staffed hours the bot takes new chats when the queue is too long to keep the promise."""

from __future__ import annotations

import shutil
from pathlib import Path

from chatserver.domain import protocol as p
from tests.conftest import Client, Server, ServerFactory

FAQ = Path(__file__).resolve().parent.parent / "faq_data"


async def arrive(server: Server, text: str) -> tuple[Client, str]:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text=text))
    await shopper.expect("ack", client_id="q")  # sent once the conversation is queued
    started = await shopper.expect("conversation_started")
    return shopper, started["status"]


async def test_bot_answers_when_the_estimated_wait_passes_the_target(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    alice = await server.agent("alice", capacity=1)
    statuses = [(await arrive(server, f"question {i}"))[1] for i in range(3)]
    await alice.expect("conversation_assigned")
    # One agent, one chat each: a fourth shopper would wait 3 places x 30 s > 60 s.
    shopper, status = await arrive(server, "What payment methods do you accept?")
    assert statuses == ["queued", "queued", "queued"] and status == "bot"
    answer = await shopper.expect("message_posted", author="bot")
    assert answer["faq_id"] == "payment-methods"


async def test_bot_answers_when_the_queue_reaches_the_shops_threshold(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(FAQ, shop)
    settings = (
        (shop / "shop.toml").read_text().replace("queue_threshold = 5", "queue_threshold = 1")
    )
    (shop / "shop.toml").write_text(settings)
    server = await start_server(faq_dir=shop, response_target_s=3600)
    alice = await server.agent("alice", capacity=1)
    _, first = await arrive(server, "one")
    await alice.expect("conversation_assigned")
    _, second = await arrive(server, "two")
    _, third = await arrive(server, "three")
    assert (first, second, third) == ("queued", "queued", "bot")
