"""Page views cost little: a visitor with no conversation is answered without a read and
leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

from chatserver.core.auth import Tokens
from chatserver.core.hub import Hub
from chatserver.core.sessions import Outbox, Session
from chatserver.domain import protocol as p
from chatserver.domain.bot import NoBot
from chatserver.domain.settings import Settings
from chatserver.store._shopper_filter import ShopperFilter
from chatserver.store.memory import MemoryStore
from chatserver.store.sqlite import SQLiteStore
from tests.conftest import FakeClock


def fields(cid: str, sid: str) -> dict[str, str]:
    doc = {"id": cid, "shopper_id": sid, "status": "queued", "created_at": 1.0}
    return {name: json.dumps(value) for name, value in doc.items()}


def test_filter_finds_every_shopper_added_and_few_others() -> None:
    added = [f"s-{i}" for i in range(200_000)]  # past the first layer's room: a second one
    shoppers = ShopperFilter(added)
    assert all(shopper_id in shoppers for shopper_id in added)
    wrongly = sum(f"v-{i}" in shoppers for i in range(100_000))
    assert wrongly < 1_000  # about 0.24% by design; 1% would mean a broken hash or layer


async def test_visitor_without_conversation_costs_no_memory_and_is_found_once_they_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chat.sqlite3"
    store = SQLiteStore(path)
    await store.start()
    try:
        records = store.records
        for i in range(1_000):
            assert await records.latest_revised(f"visitor{i}") is None
        assert len(records._by_shopper) == 0  # type: ignore[attr-defined]
        await records.create("c1", "visitor7", fields("c1", "visitor7"))
        found = await records.latest_revised("visitor7")
        assert found is not None and found[0] == "c1"
        await records.move("c1", "visitor7", "customer-1")
        assert await records.of_shopper("customer-1") == ["c1"]
    finally:
        await store.close()
    # After a restart the filter is loaded from the file: the shopper's conversation is found.
    again = SQLiteStore(path)
    await again.start()
    try:
        assert await again.records.of_shopper("customer-1") == ["c1"]
        assert await again.records.latest_revised("visitor8") is None
    finally:
        await again.close()


async def test_availability_is_kept_between_hellos_only_while_nothing_changes(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    settings = Settings(data_dir=tmp_path, faq_dir=tmp_path / "no-faq")
    clock = FakeClock()
    hub = Hub(settings, store, Tokens("unit-test-secret", 3600), clock, NoBot())
    await store.start()
    await hub.start()
    try:

        async def told() -> dict[str, object]:
            session = Session("shopper", "", "", Outbox(100), store.log.read)  # type: ignore[arg-type]
            await hub.connect_shopper(session, p.Hello(version=p.PROTOCOL_VERSION))
            frames = []
            while not session.outbox.empty():
                frames.append(json.loads(session.outbox.get_nowait()))
            await hub.disconnect(session)
            return next(f for f in frames if f["type"] == "availability")

        assert (await told())["mode"] == "offline"
        assert (await told())["mode"] == "offline"  # kept: nothing changed
        await hub.accounts.add("alice", "Alice", "secret-password", capacity=2)
        await hub.assigner.set_status("alice", "online", 2)
        # The same second on the clock, but an agent came online: told at once.
        first = await told()
        assert first["mode"] == "live" and first["agents_online"] == 1
        await hub.assigner.set_status("alice", "offline", 2)
        assert (await told())["agents_online"] == 0
        await clock.advance(1)
        assert (await told())["mode"] == "offline"
    finally:
        await hub.close()
        await store.close()
