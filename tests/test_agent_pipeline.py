"""An agent socket's replies are pipelined: several in flight at once, in order per conversation,
and a frame about no single conversation waits for them all."""

from __future__ import annotations

import pytest

from chatserver.domain import protocol as p
from tests.conftest import Client, Server, ServerFactory
from tests.test_chat import start_chat


@pytest.fixture
def backend_kind() -> str:
    """The pipeline is the socket's, whatever the store: one backend is enough."""
    return "sqlite"


async def _two_chats(server: Server) -> tuple[Client, list[str]]:
    agent = await server.agent("alice", capacity=2)
    chats = []
    for k in range(2):
        _, conversation_id = await start_chat(server, f"question {k}", client_id=f"q{k}")
        await agent.expect("conversation_assigned", conversation_id=conversation_id)
        chats.append(conversation_id)
    return agent, chats


async def test_replies_in_two_chats_are_handled_side_by_side_in_order_per_chat(
    server: Server,
) -> None:
    agent, chats = await _two_chats(server)
    for i in range(5):
        for c, conversation_id in enumerate(chats):
            await agent.send(
                p.SendMessage(
                    conversation_id=conversation_id, client_id=f"a{c}-{i}", text=f"{c}:{i}"
                )
            )
    for i in range(5):
        for c in range(2):
            await agent.expect("ack", client_id=f"a{c}-{i}")
    assert server.hub.admission.agent_frames_peak >= 2  # not one commit at a time
    for c, conversation_id in enumerate(chats):
        log = await server.hub.store.log.read(conversation_id)
        replies = [text for _, text in log if '"author":"agent"' in text]
        assert [f'"text":"{c}:{i}"' in text for i, text in enumerate(replies)] == [True] * 5


async def test_a_frame_about_no_chat_waits_for_the_replies_before_it(server: Server) -> None:
    agent, chats = await _two_chats(server)
    for i in range(4):
        for c, conversation_id in enumerate(chats):
            await agent.send(
                p.SendMessage(conversation_id=conversation_id, client_id=f"b{c}-{i}", text="x")
            )
    await agent.send(p.SetStatus(status="away"))
    await agent.expect("status_changed", status="away")
    kinds = [(f["type"], f.get("client_id") or f.get("status")) for f in agent.received]
    away = kinds.index(("status_changed", "away"))
    acks = [k for k, (kind, client_id) in enumerate(kinds) if kind == "ack"]
    assert len(acks) == 8 and max(acks) < away


async def test_many_replies_in_one_chat_are_stored_in_the_order_sent(
    start_server: ServerFactory,
) -> None:
    server = await start_server(rate_limit_burst=100)
    agent, chats = await _two_chats(server)
    for i in range(30):  # more than AGENT_FRAMES_IN_FLIGHT
        await agent.send(p.SendMessage(conversation_id=chats[0], client_id=f"c{i}", text=f"n{i}"))
    await agent.expect("ack", client_id="c29")
    log = await server.hub.store.log.read(chats[0])
    replies = [text for _, text in log if '"author":"agent"' in text]
    assert [f'"text":"n{i}"' in text for i, text in enumerate(replies)] == [True] * 30
