"""Routing through a real server: who gets a chat, capacity, queue positions, grace, transfer, close."""

from __future__ import annotations

import asyncio
from collections import Counter

from chatserver.domain import protocol as p
from tests.conftest import Client, Server


async def new_chat(server: Server, text: str = "hi") -> tuple[Client, str]:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="first", text=text))
    ack = await shopper.expect("ack", client_id="first")
    return shopper, ack["conversation_id"]


async def test_agent_with_fewest_open_chats_gets_the_next_conversation(server: Server) -> None:
    alice = await server.agent("alice", capacity=3)
    _, first = await new_chat(server)
    await alice.expect("conversation_assigned", conversation_id=first)
    bob = await server.agent("bob", capacity=3)
    _, second = await new_chat(server)
    await bob.expect("conversation_assigned", conversation_id=second, agent_id="bob")


async def test_ties_go_to_the_agent_idle_longest(server: Server) -> None:
    alice = await server.agent("alice", capacity=3)
    await server.clock.advance(10)
    await server.agent("bob", capacity=3)
    _, conversation_id = await new_chat(server)
    await alice.expect("conversation_assigned", conversation_id=conversation_id, agent_id="alice")


async def test_concurrent_arrivals_never_exceed_capacity_or_double_assign(server: Server) -> None:
    agents = [await server.agent(name, capacity=2) for name in ("alice", "bob", "carol")]
    shoppers = await asyncio.gather(*(server.shopper() for _ in range(15)))
    await asyncio.gather(
        *(s.send(p.SendMessage(client_id="c", text=f"shopper {i}")) for i, s in enumerate(shoppers))
    )
    await asyncio.gather(*(s.expect("ack", client_id="c") for s in shoppers))
    for agent in agents:
        await agent.expect("conversation_assigned")
        await agent.expect("conversation_assigned")
    held = await server.hub.store.router.held()
    assert sorted(len(chats) for chats in held.values()) == [2, 2, 2]
    all_held = [c for chats in held.values() for c in chats]
    assert len(set(all_held)) == 6
    assert len(await server.hub.store.router.waiting()) == 9
    assigned_events = Counter(
        f["conversation_id"] for a in agents for f in a.all("conversation_assigned")
    )
    assert all(n == 1 for n in assigned_events.values())


async def test_waiting_shoppers_see_their_position_move_up(server: Server) -> None:
    first, _ = await new_chat(server, "one")
    second, _ = await new_chat(server, "two")
    await first.expect("queue_position", position=1)
    await second.expect("queue_position", position=2)
    alice = await server.agent("alice", capacity=1)
    await alice.expect("conversation_assigned")
    moved = await second.expect("queue_position", position=1)
    assert moved["estimated_wait_s"] is not None


async def test_agents_see_the_queue_with_deadlines(server: Server) -> None:
    alice = await server.agent("alice", capacity=1, online=False)
    _, conversation_id = await new_chat(server)
    snapshot = await alice.expect("queue_snapshot", agents_online=0)
    while not snapshot["waiting"]:
        snapshot = await alice.expect("queue_snapshot")
    (waiting,) = snapshot["waiting"]
    assert waiting["conversation_id"] == conversation_id
    assert waiting["deadline"] == waiting["queued_at"] + 60


async def test_away_agent_gets_no_new_chats(server: Server) -> None:
    alice = await server.agent("alice", capacity=2)
    await alice.send(p.SetStatus(status="away"))
    await alice.expect("status_changed", status="away")
    _, conversation_id = await new_chat(server)
    assert await server.hub.store.router.waiting() == [conversation_id]
    await alice.send(p.SetStatus(status="online"))
    await alice.expect("conversation_assigned", conversation_id=conversation_id)


async def test_disconnected_agent_chats_return_to_queue_head_after_grace(start_server) -> None:
    server = await start_server(agent_grace_s=30)
    alice = await server.agent("alice", capacity=1)
    shopper, held = await new_chat(server, "held by alice")
    await alice.expect("conversation_assigned", conversation_id=held)
    _, waiting = await new_chat(server, "waiting")
    await alice.close()
    await server.agent_offline("alice")
    await server.clock.advance(29)
    assert await server.hub.store.router.waiting() == [waiting]
    await server.clock.advance(2)
    await shopper.expect("conversation_requeued", from_agent="alice")
    bob = await server.agent("bob", capacity=1)
    await bob.expect("conversation_assigned", conversation_id=held)
    assert await server.hub.store.router.waiting() == [waiting]


async def test_agent_back_within_grace_keeps_chats_and_status(start_server) -> None:
    server = await start_server(agent_grace_s=30)
    alice = await server.agent("alice", capacity=1)
    _, held = await new_chat(server)
    await alice.expect("conversation_assigned", conversation_id=held)
    await alice.close()
    await server.agent_offline("alice")
    await server.clock.advance(10)
    again = await server.agent("alice", capacity=1, online=False)
    welcome = again.all("welcome")[0]
    assert [c["conversation_id"] for c in welcome["conversations"]] == [held]
    await again.expect("status_changed", status="online")
    await again.expect("message_posted", text="hi")
    await server.clock.advance(60)
    assert (await server.hub.store.router.held())["alice"] == [held]


async def test_transfer_moves_the_chat_to_another_agent(server: Server) -> None:
    alice = await server.agent("alice", capacity=1)
    shopper, conversation_id = await new_chat(server)
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    bob = await server.agent("bob", capacity=1)
    await alice.send(p.Transfer(conversation_id=conversation_id, to_agent="bob"))
    await bob.expect("conversation_transferred", conversation_id=conversation_id, agent_id="bob")
    await bob.expect("message_posted", text="hi")
    await shopper.expect("conversation_transferred", agent_name="Bob")
    await alice.send(
        p.SendMessage(conversation_id=conversation_id, client_id="x", text="still mine?")
    )
    await alice.expect("error", code="not_your_conversation")
    await bob.send(p.SendMessage(conversation_id=conversation_id, client_id="y", text="Bob here"))
    await shopper.expect("message_posted", text="Bob here")


async def test_transfer_to_a_full_or_offline_agent_is_refused(server: Server) -> None:
    alice = await server.agent("alice", capacity=1)
    _, conversation_id = await new_chat(server)
    await alice.expect("conversation_assigned")
    await server.agent("bob", capacity=1, online=False)
    await alice.send(p.Transfer(conversation_id=conversation_id, to_agent="bob"))
    error = await alice.expect("error", code="not_allowed")
    assert "bob" in error["message"]
    await alice.send(p.Transfer(conversation_id=conversation_id, to_agent="nobody"))
    await alice.expect("error", code="not_found")


async def test_agent_closes_and_takes_the_next_waiting_chat(server: Server) -> None:
    alice = await server.agent("alice", capacity=1)
    first, one = await new_chat(server, "one")
    _, two = await new_chat(server, "two")
    await alice.expect("conversation_assigned", conversation_id=one)
    await alice.send(p.CloseConversation(conversation_id=one))
    await first.expect("conversation_closed", by="agent")
    await alice.expect("conversation_assigned", conversation_id=two)


async def test_shopper_ends_chat_and_can_rate_it(server: Server) -> None:
    alice = await server.agent("alice", capacity=1)
    shopper, conversation_id = await new_chat(server)
    await alice.expect("conversation_assigned")
    await shopper.send(p.Rate(score=5))
    await shopper.expect("error", code="not_allowed")
    await shopper.send(p.EndConversation())
    await alice.expect("conversation_closed", by="shopper")
    await shopper.send(p.Rate(score=4, comment="quick and kind"))
    await alice.expect("rating_given", score=4, comment="quick and kind")
    record = await server.hub.store.records.get(conversation_id)
    assert record is not None and record["rating"] == "4"
    assert (await server.hub.store.router.held()).get("alice") is None


async def test_a_new_message_after_close_starts_a_new_conversation(server: Server) -> None:
    shopper, first = await new_chat(server)
    await shopper.send(p.EndConversation())
    await shopper.expect("conversation_closed")
    await shopper.send(p.SendMessage(client_id="again", text="one more question"))
    ack = await shopper.expect("ack", client_id="again")
    assert ack["conversation_id"] != first
