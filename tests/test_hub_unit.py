"""The hub on the memory store and the fake clock: no sockets, no files, milliseconds per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chatserver.core.auth import Tokens
from chatserver.core.hub import Hub
from chatserver.core.journal import Change
from chatserver.core.sessions import Outbox, Session
from chatserver.domain import protocol as p
from chatserver.domain.bot import NoBot
from chatserver.domain.conversation import Conversation
from chatserver.domain.errors import InvalidFrame, NotAllowed, NotYourConversation
from chatserver.domain.settings import Settings
from chatserver.store.base import Store
from chatserver.store.memory import MemoryStore
from tests.conftest import FakeClock


class Peer:
    """A session as a connection would hold it, with what the hub sent it."""

    def __init__(self, hub: Hub, role: str) -> None:
        self.hub = hub
        self.session = Session(role, "", "", Outbox(1000), hub.store.log.read)  # type: ignore[arg-type]

    def frames(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Everything sent so far (taken from the outbox), or only frames of one type."""
        got = []
        while not self.session.outbox.empty():
            got.append(json.loads(self.session.outbox.get_nowait()))
        self._seen = [*getattr(self, "_seen", []), *got]
        return [f for f in self._seen if kind is None or f["type"] == kind]

    async def send(self, frame: p.Frame) -> None:
        await self.hub.handle(self.session, frame)
        await settle()


async def settle() -> None:
    """Let background work (dispatch rounds, catch-up reads) run to its end."""
    for _ in range(30):
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def hub_on(store: Store, tmp_path: Path) -> AsyncIterator[Hub]:
    """A started hub on this store, the fake clock and no bot; closed with its store."""
    settings = Settings(data_dir=tmp_path, faq_dir=tmp_path / "no-faq", agent_grace_s=30)
    hub = Hub(settings, store, Tokens("unit-test-secret", 3600), FakeClock(), NoBot())
    await store.start()
    await hub.start()
    try:
        yield hub
    finally:
        await hub.close()
        await store.close()


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with hub_on(MemoryStore(), tmp_path) as started:
        yield started


async def shopper(hub: Hub) -> Peer:
    peer = Peer(hub, "shopper")
    await hub.connect_shopper(peer.session, p.Hello(version=p.PROTOCOL_VERSION))
    return peer


async def agent(hub: Hub, name: str = "alice", capacity: int = 2) -> Peer:
    await hub.accounts.add(name, name.title(), "secret-password", capacity=capacity)
    peer = Peer(hub, "agent")
    token = hub.tokens.new_session(name)
    await hub.connect_agent(peer.session, p.Hello(version=p.PROTOCOL_VERSION, token=token))
    await peer.send(p.SetStatus(status="online", capacity=capacity))
    return peer


async def test_shopper_message_reaches_the_online_agent_with_the_clock_running(hub: Hub) -> None:
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Is this in stock?"))
    [ack] = bob.frames("ack")
    [assigned] = alice.frames("conversation_assigned")
    assert ack["seq"] >= 1 and assigned["agent_id"] == "alice"
    assert assigned["deadline"] == hub.clock.now() + hub.settings.response_target_s
    texts = [f["text"] for f in alice.frames("message_posted")]
    assert texts == ["Is this in stock?"]


async def test_a_retried_client_id_is_stored_once(hub: Hub) -> None:
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="same", text="hello"))
    await bob.send(p.SendMessage(client_id="same", text="hello"))
    first, again = bob.frames("ack")
    assert again["duplicate"] and again["seq"] == first["seq"]
    log = await hub.store.log.read(first["conversation_id"])
    assert [json.loads(t).get("text") for _, t in log].count("hello") == 1


async def test_the_agent_reply_stops_the_clock_and_measures_it(hub: Hub) -> None:
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Hi"))
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    await hub.clock.advance(42)  # type: ignore[attr-defined]
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="r1", text="Hello!"))
    record = await hub.journal.get(conversation_id)
    assert record.first_response_s == 42 and record.clock_started is None
    assert [f["text"] for f in bob.frames("message_posted")] == ["Hi", "Hello!"]


async def test_an_agent_cannot_act_on_a_chat_they_do_not_hold(hub: Hub) -> None:
    await agent(hub, "alice", capacity=1)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Hi"))
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    carol = await agent(hub, "carol", capacity=1)
    with pytest.raises(NotYourConversation):
        await carol.send(p.CloseConversation(conversation_id=conversation_id))
    with pytest.raises(InvalidFrame):
        await carol.send(p.Typing(is_typing=True))


async def test_a_second_hello_is_refused(hub: Hub) -> None:
    bob = await shopper(hub)
    with pytest.raises(NotAllowed):
        await bob.send(p.Hello(version=p.PROTOCOL_VERSION))


async def test_transfer_moves_the_chat_and_both_agents_see_their_load(hub: Hub) -> None:
    alice = await agent(hub, "alice", capacity=1)
    carol = await agent(hub, "carol", capacity=3)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Hi"))
    conversation_id = alice.frames("conversation_assigned")[0]["conversation_id"]
    await alice.send(p.Transfer(conversation_id=conversation_id, to_agent="carol"))
    assert (await hub.journal.get(conversation_id)).agent_id == "carol"
    assert alice.frames("status_changed")[-1]["open_chats"] == 0
    assert carol.frames("status_changed")[-1]["open_chats"] == 1
    assert any(f["type"] == "conversation_transferred" for f in carol.frames())


async def test_an_agent_gone_past_the_grace_period_loses_their_chats_to_the_queue(
    hub: Hub,
) -> None:
    alice = await agent(hub, "alice", capacity=1)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Hi"))
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    await hub.disconnect(alice.session)
    await settle()  # the grace timer starts sleeping
    await hub.clock.advance(29)  # type: ignore[attr-defined]
    await settle()
    assert await hub.store.router.held() == {"alice": [conversation_id]}
    await hub.clock.advance(2)  # type: ignore[attr-defined]
    await settle()
    assert await hub.store.router.waiting() == [conversation_id]
    assert bob.frames("conversation_requeued")[-1]["from_agent"] == "alice"


async def test_closing_releases_the_seat_and_the_next_chat_takes_it(hub: Hub) -> None:
    alice = await agent(hub, "alice", capacity=1)
    first, second = await shopper(hub), await shopper(hub)
    await first.send(p.SendMessage(client_id="a", text="one"))
    await second.send(p.SendMessage(client_id="b", text="two"))
    held = await hub.store.router.held()
    waiting = await hub.store.router.waiting()
    assert len(held["alice"]) == 1 and len(waiting) == 1
    await alice.send(p.CloseConversation(conversation_id=held["alice"][0]))
    assert (await hub.store.router.held())["alice"] == waiting
    assert await hub.store.router.waiting() == []


def test_a_change_is_the_record_copied_with_it_and_its_fields_as_stored() -> None:
    before = Conversation(
        id="c-1",
        shop_id="shop",
        shopper_id="s-1",
        status="assigned",
        created_at=1.5,
        response_times=[3.0],
        tone_by_agent={"alice": [1, 0]},
    )
    changes = {
        "clock_started": None,
        "response_times": [3.0, 4.25],
        "messages": 2,
        "tone_by_agent": {"alice": [2, 1]},
        "context": p.PageContext(url="https://shop.example/p/1", title="Boots"),
    }
    change = Change(before, changes)
    copied = before.model_copy(update=changes)
    assert change.after == copied and change.after.model_fields_set == copied.model_fields_set
    assert change.record == copied.fields(*changes)
    assert before.messages == 0 and before.response_times == [3.0]  # the record read is as it was


async def test_the_journal_parses_a_record_again_only_when_the_store_has_other_fields(
    hub: Hub,
) -> None:
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Is this in stock?"))
    conversation_id = bob.frames("ack")[0]["conversation_id"]
    journal = hub.journal
    read = await journal.get(conversation_id)
    assert await journal.get(conversation_id) is read  # the same fields: not parsed again

    change = Change(read, {"messages": read.messages + 1, "question": "Boots?"})
    await journal.post(conversation_id, p.EmailLeft, change=change, email="b@example.com")
    assert await journal.get(conversation_id) is change.after  # kept as changed, no parse

    # Another worker changes the record behind this journal's back: the next read sees it.
    await hub.store.records.update(conversation_id, {"tags": '["vip"]'})
    again = await journal.get(conversation_id)
    assert again.tags == ["vip"] and again.question == "Boots?"
    assert (await journal.latest(bob.session.user_id)) is again
