"""The embedded store's records carry revisions: the hub uses the record it keeps, reads none per
message, and a message made from a record another message changed meanwhile is made again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path

import pytest

from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.store.sqlite import SQLiteStore
from tests.test_hub_unit import agent, hub_on, settle, shopper


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with hub_on(SQLiteStore(tmp_path / "chat.sqlite3"), tmp_path) as started:
        yield started


async def test_messages_to_an_open_chat_read_no_record(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m0", text="Is this in stock?"))
    chat = bob.frames("ack")[0]["conversation_id"]
    await alice.send(p.SendMessage(conversation_id=chat, client_id="r0", text="It is."))
    await bob.send(p.SendMessage(client_id="m1", text="Great."))  # the shopper's chat, read once

    reads: list[str] = []
    records = hub.store.records
    for name in ("get", "get_revised", "latest_revised"):
        read = getattr(records, name)

        async def counted(key: str, read=read, name=name):  # type: ignore[no-untyped-def]
            reads.append(name)
            return await read(key)

        monkeypatch.setattr(records, name, counted)
    for k in range(1, 4):
        await alice.send(p.SendMessage(conversation_id=chat, client_id=f"r{k}", text="Yes."))
        await bob.send(p.SendMessage(client_id=f"m{k + 1}", text="And in blue?"))
    assert reads == []
    assert [a["client_id"] for a in alice.frames("ack")] == ["r0", "r1", "r2", "r3"]
    record = await hub.journal.get(chat)
    assert record.messages == 9 and len(record.response_times) == 4


async def test_a_shopper_and_an_agent_writing_at_once_lose_no_change(hub: Hub) -> None:
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m0", text="Is this in stock?"))
    chat = bob.frames("ack")[0]["conversation_id"]
    for k in range(1, 6):  # each pair made from the same record, stored one after the other
        await asyncio.gather(
            hub.handle(bob.session, p.SendMessage(client_id=f"m{k}", text="Hello?")),
            hub.handle(
                alice.session, p.SendMessage(conversation_id=chat, client_id=f"r{k}", text="Yes.")
            ),
        )
    await settle()
    events = [json.loads(text) for _, text in await hub.store.log.read(chat)]
    posted = [e for e in events if e["type"] == "message_posted"]
    assert len(posted) == 11
    record = await hub.journal.get(chat)
    assert record.messages == 11  # every message counted, none lost to the other's write
    # Each reply stopped a clock the shopper's message before it started (or found it stopped).
    assert len(record.response_times) == sum(
        1
        for before, reply in pairwise(posted)
        if reply["author"] == "agent" and before["author"] == "shopper"
    )
