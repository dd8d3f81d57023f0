"""The 60-second promise: first-response and every-response times, deadlines, on a fake clock."""

from __future__ import annotations

import json

from chatserver.domain import protocol as p
from chatserver.domain.bot import BotTurn
from tests.conftest import Server


class AlwaysBot:
    """A bot that takes every new conversation and hands off when asked to."""

    def in_charge(self, now: float, queue_length: int, estimated_wait_s: float) -> bool:
        return True

    def reply(
        self, text: str, locale: str, now: float, people_online: bool, timezone: str = ""
    ) -> BotTurn:
        return BotTurn(f"bot answer to {text}", handoff="person" in text)

    def texts(self, locale: str) -> tuple[str, str]:
        return "", ""

    def back_at(self, now: float, locale: str, timezone: str) -> str:
        return ""

    def language(self, text: str, locale: str) -> str:
        return ""


async def record(server: Server, conversation_id: str) -> dict:
    fields = await server.hub.store.records.get(conversation_id)
    assert fields is not None
    return {k: json.loads(v) for k, v in fields.items()}


async def test_first_and_every_response_time_are_kept(server: Server) -> None:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="Is this waterproof?"))
    conversation_id = (await shopper.expect("ack", client_id="q1"))["conversation_id"]
    await server.clock.advance(42)
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Yes."))
    await alice.expect("ack", client_id="a1")
    assert (await record(server, conversation_id))["first_response_s"] == 42

    await shopper.send(p.SendMessage(client_id="q2", text="To what depth?"))
    await shopper.expect("ack", client_id="q2")
    await server.clock.advance(10)
    await shopper.send(p.SendMessage(client_id="q3", text="Hello?"))
    await shopper.expect("ack", client_id="q3")
    await server.clock.advance(5)
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="a2", text="30 m."))
    await alice.expect("ack", client_id="a2")
    await alice.send(
        p.SendMessage(conversation_id=conversation_id, client_id="a3", text="Anything else?")
    )
    await alice.expect("ack", client_id="a3")

    kept = await record(server, conversation_id)
    assert kept["first_response_s"] == 42
    assert kept["response_times"] == [42, 15]
    assert kept["clock_started"] is None


async def test_agents_get_the_deadline_of_the_target(start_server) -> None:
    server = await start_server(response_target_s=30)
    shopper = await server.shopper()
    start = server.clock.now()
    await shopper.send(p.SendMessage(client_id="q", text="hi"))
    await shopper.expect("ack", client_id="q")
    await server.clock.advance(7)
    alice = await server.agent("alice")
    assigned = await alice.expect("conversation_assigned")
    assert assigned["deadline"] == start + 30
    await alice.send(
        p.SendMessage(conversation_id=assigned["conversation_id"], client_id="a", text="hey")
    )
    await alice.expect("ack", client_id="a")
    await server.clock.advance(3)
    await shopper.send(p.SendMessage(client_id="q2", text="one more"))
    posted = await alice.expect("message_posted", text="one more")
    assert posted["deadline"] == server.clock.now() + 30
    # A second message while the clock runs keeps its deadline (the console's countdown stays).
    await server.clock.advance(5)
    await shopper.send(p.SendMessage(client_id="q3", text="hello?"))
    again = await alice.expect("message_posted", text="hello?")
    assert again["deadline"] == posted["deadline"]


async def test_bot_messages_never_stop_the_clock(start_server) -> None:
    server = await start_server(bot=AlwaysBot())
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="shipping to Spain?"))
    conversation_id = (await shopper.expect("ack", client_id="q"))["conversation_id"]
    await shopper.expect("message_posted", author="bot", text="bot answer to shipping to Spain?")
    assert (await record(server, conversation_id))["clock_started"] is None

    await server.clock.advance(100)
    handoff_at = server.clock.now()
    await shopper.send(p.SendMessage(client_id="q2", text="a person please"))
    await shopper.expect("conversation_queued", reason="handoff")
    assert (await record(server, conversation_id))["clock_started"] == handoff_at
    await server.clock.advance(20)
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    await alice.send(
        p.SendMessage(conversation_id=conversation_id, client_id="a", text="Hi, Alice")
    )
    await alice.expect("ack", client_id="a")
    assert (await record(server, conversation_id))["first_response_s"] == 20


async def test_request_human_hands_the_bot_conversation_to_the_queue(start_server) -> None:
    server = await start_server(bot=AlwaysBot())
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="hello"))
    await shopper.expect("message_posted", author="bot")
    await shopper.send(p.RequestHuman())
    queued = await shopper.expect("conversation_queued", reason="handoff")
    assert queued["deadline"] == server.clock.now() + 60


async def test_unanswered_conversation_keeps_its_clock_running(server: Server) -> None:
    shopper = await server.shopper()
    started = server.clock.now()
    await shopper.send(p.SendMessage(client_id="q", text="anyone?"))
    conversation_id = (await shopper.expect("ack", client_id="q"))["conversation_id"]
    await server.clock.advance(300)
    kept = await record(server, conversation_id)
    assert kept["clock_started"] == started and kept["first_response_s"] is None
