"""The store contract: every test runs on each adapter: memory, embedded (SQLite) and Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from chatserver.store.base import Store
from chatserver.store.memory import MemoryStore
from chatserver.store.notice_ports import LedgerEntry
from chatserver.store.ports import RecordChanged
from chatserver.store.redis import RedisStore
from chatserver.store.sqlite import SQLiteStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests._s3 import s3_files, s3_url  # noqa: F401  (s3_url: a fixture, requested by name)

NOW = 1_800_000_000.0
Peer = Callable[[], Awaitable[Store]]


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Store]]:
    """Two handles on one store: two workers on Redis, the same object on the embedded backend
    (which is one process by design). Redis keys are deleted afterwards."""
    prefix = unique_prefix()
    if request.param in ("memory", "sqlite"):
        one = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "chat.sqlite3")
        started: list[Store] = [one]
        pair = [one, one]
    else:
        # Scale-out attachments live in S3-compatible storage: one bucket, two workers.
        bucket = s3_files(request.getfixturevalue("s3_url"))
        started = [
            RedisStore(REDIS_URL, prefix=prefix, files=bucket),
            RedisStore(REDIS_URL, prefix=prefix, files=s3_files(bucket.endpoint, bucket.bucket)),
        ]
        pair = started
    for backend in started:
        await backend.start()
    yield pair
    for backend in started:
        await backend.close()
    if request.param == "redis":
        await drop_keys(prefix)


@pytest.fixture
def backend(stores: list[Store]) -> Store:
    return stores[0]


def event(conversation_id: str, text: str) -> Callable[[int], str]:
    return lambda seq: json.dumps({"c": conversation_id, "seq": seq, "text": text})


def doc(**fields: object) -> dict[str, str]:
    return {name: json.dumps(value) for name, value in fields.items()}


# --- the log --------------------------------------------------------------------------------


async def test_append_numbers_events_from_one_and_read_log_replays_after_a_seq(
    backend: Store,
) -> None:
    first = await backend.log.append("c1", event("c1", "a"), "m1")
    second = await backend.log.append("c1", event("c1", "b"))
    other = await backend.log.append("c2", event("c2", "x"))
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert json.loads(second.text) == {"c": "c1", "seq": 2, "text": "b"}
    assert not first.duplicate and not second.duplicate
    assert await backend.log.read("c1") == [(1, first.text), (2, second.text)]
    assert await backend.log.read("c1", after_seq=1) == [(2, second.text)]
    assert await backend.log.read("c1", after_seq=2) == []
    assert await backend.log.read("nothing") == []


async def test_retried_client_id_returns_the_original_and_stores_nothing(backend: Store) -> None:
    original = await backend.log.append("c1", event("c1", "hello"), "same")
    await backend.log.append("c1", event("c1", "next"), "other")
    again = await backend.log.append("c1", event("c1", "hello, changed"), "same")
    assert again.duplicate and again.seq == original.seq and again.text == original.text
    assert len(await backend.log.read("c1")) == 2
    elsewhere = await backend.log.append("c2", event("c2", "hello"), "same")
    assert not elsewhere.duplicate and elsewhere.seq == 1


async def test_concurrent_appends_to_one_conversation_get_one_to_n_without_gaps(
    stores: list[Store],
) -> None:
    n = 60
    results = await asyncio.gather(
        *(stores[i % 2].log.append("c1", event("c1", f"m{i}"), f"id{i}") for i in range(n))
    )
    assert sorted(r.seq for r in results) == list(range(1, n + 1))
    log = await stores[1].log.read("c1")
    assert [seq for seq, _ in log] == list(range(1, n + 1))
    assert all(json.loads(text)["seq"] == seq for seq, text in log)
    retried = await asyncio.gather(
        *(stores[i % 2].log.append("c1", event("c1", "again"), f"id{i}") for i in range(n))
    )
    assert all(r.duplicate for r in retried) and len(await stores[0].log.read("c1")) == n


# --- records ---------------------------------------------------------------------------------


async def test_append_sets_record_fields_in_the_same_write_only_when_new(
    stores: list[Store],
) -> None:
    one, other = stores
    await one.records.create("c1", "s1", doc(id="c1", messages=0, status="queued"))
    await one.log.append("c1", event("c1", "hi"), "m1", doc(messages=1))
    await one.log.append("c1", event("c1", "hi"), "m1", doc(messages=99))  # a retry changes nothing
    record = await other.records.get("c1")
    assert record is not None
    assert json.loads(record["messages"]) == 1 and json.loads(record["status"]) == "queued"


async def test_an_append_expecting_a_revision_is_stored_only_while_the_record_is_unchanged(
    stores: list[Store],
) -> None:
    one, other = stores
    await one.records.create("c1", "s1", doc(id="c1", shopper_id="s1", messages=0, created_at=NOW))
    fields, rev = await one.records.get_revised("c1")
    assert fields is not None and json.loads(fields["messages"]) == 0
    if isinstance(one, MemoryStore):
        # The tests' store keeps no revisions, and none is asked for.
        assert rev is None
        stored = await one.log.append_published(
            "c1", event("c1", "a"), "m1", doc(messages=1), one.bus, "c:c1", None
        )
        assert (stored.seq, stored.rev) == (1, None)
        return
    assert rev is not None
    first = await one.log.append_published(
        "c1", event("c1", "a"), "m1", doc(messages=1), one.bus, "c:c1", rev
    )
    assert first.rev == rev + 1
    await other.records.update("c1", doc(messages=5))  # another worker, meanwhile
    with pytest.raises(RecordChanged) as changed:  # made from messages=1: refused, not lost
        await one.log.append_published(
            "c1", event("c1", "b"), "m2", doc(messages=2), one.bus, "c:c1", first.rev
        )
    assert changed.value.rev == first.rev + 1 and changed.value.fields is not None
    assert json.loads(changed.value.fields["messages"]) == 5
    assert [seq for seq, _ in await other.log.read("c1")] == [1]
    again = await one.log.append_published(
        "c1", event("c1", "b"), "m2", doc(messages=6), one.bus, "c:c1", changed.value.rev
    )
    assert (again.seq, again.rev) == (2, changed.value.rev + 1)
    # A retry finds its original whatever the revision; a move changes the revision too.
    retry = await one.log.append_published(
        "c1", event("c1", "b"), "m2", doc(messages=7), one.bus, "c:c1", 0
    )
    assert retry.duplicate and retry.seq == 2
    await other.records.move("c1", "s1", "s2")
    latest = await one.records.latest_revised("s2")
    assert latest is not None and latest[0] == "c1" and latest[2] == (again.rev or 0) + 1
    assert latest[1] is not None and json.loads(latest[1]["messages"]) == 6


async def test_conversation_records_are_created_updated_and_listed(stores: list[Store]) -> None:
    backend, peer = stores
    await backend.records.create("c1", "s1", doc(status="queued", created_at=NOW, agent_id=None))
    await backend.records.create("c2", "s1", doc(status="bot", created_at=NOW + 5))
    await backend.records.create("c3", "s2", doc(status="bot", created_at=NOW + 10))
    await backend.records.update("c1", doc(status="assigned", agent_id="alice"))
    record = await peer.records.get("c1")
    assert record is not None
    assert json.loads(record["status"]) == "assigned" and json.loads(record["agent_id"]) == "alice"
    assert json.loads(record["created_at"]) == NOW
    assert await peer.records.get("missing") is None
    with pytest.raises(KeyError):
        await backend.records.update("missing", doc(status="closed"))
    assert await peer.records.of_shopper("s1") == ["c1", "c2"]
    assert await peer.records.of_shopper("nobody") == []
    listed = await peer.records.created_between(NOW, NOW + 10)
    assert [json.loads(r["created_at"]) for r in listed] == [NOW, NOW + 5]


async def test_scan_fields_gives_the_named_fields_of_records_in_the_range(
    stores: list[Store],
) -> None:
    backend, peer = stores
    context = {"product_id": "P1", "product_name": "Kite"}
    await backend.records.create("c1", "s1", doc(created_at=NOW, effort=6, context=context))
    await backend.records.create("c2", "s2", doc(created_at=NOW + 5, tone_by_agent={"al": [2, 1]}))
    await backend.records.create("c3", "s3", doc(created_at=NOW + 10, effort=1))
    names = ("created_at", "effort", "context", "tone_by_agent")
    rows = json.loads(await peer.records.scan_fields(NOW, NOW + 10, names))
    assert sorted(rows, key=lambda row: row[0]) == [
        [NOW, 6, context, None],
        [NOW + 5, None, None, {"al": [2, 1]}],
    ]
    assert json.loads(await peer.records.scan_fields(NOW + 20, NOW + 30, names)) == []


async def test_a_conversation_moves_to_another_shopper_with_both_lists(
    stores: list[Store], tmp_path: Path
) -> None:
    backend, peer = stores
    await backend.records.create("c1", "s-anon", doc(shopper_id="s-anon", created_at=NOW + 5))
    await backend.records.create("c0", "c-cust", doc(shopper_id="c-cust", created_at=NOW))
    await backend.records.move("c1", "s-anon", "c-cust")
    assert await peer.records.of_shopper("s-anon") == []
    assert await peer.records.of_shopper("c-cust") == ["c0", "c1"]
    record = await peer.records.get("c1")
    assert record is not None and json.loads(record["shopper_id"]) == "c-cust"
    with pytest.raises(KeyError):
        await backend.records.move("missing", "s-anon", "c-cust")
    if isinstance(backend, SQLiteStore):  # the move is on disk, not only in memory
        reader = SQLiteStore(tmp_path / "chat.sqlite3")
        await reader.start()
        try:
            assert await reader.records.of_shopper("c-cust") == ["c0", "c1"]
            assert await reader.records.of_shopper("s-anon") == []
        finally:
            await reader.close()


async def test_two_workers_opening_a_shoppers_conversation_at_once_create_one(
    stores: list[Store],
) -> None:
    backend, peer = stores
    first, second = await asyncio.gather(
        backend.records.open_or_create("c1", "s1", doc(status="bot", created_at=NOW)),
        peer.records.open_or_create("c2", "s1", doc(status="queued", created_at=NOW + 0.001)),
    )
    assert first == second and await peer.records.of_shopper("s1") == [first]
    assert await backend.records.open_or_create("c3", "s1", doc(created_at=NOW + 1)) == first
    await backend.records.update(first, doc(status="closed"))
    # Once it is closed, the next message starts a new one.
    assert (
        await peer.records.open_or_create("c4", "s1", doc(status="bot", created_at=NOW + 2)) == "c4"
    )
    assert await backend.records.of_shopper("s1") == [first, "c4"]
    record = await backend.records.get("c4")
    assert record is not None and json.loads(record["status"]) == "bot"


# --- queue and routing -------------------------------------------------------------------


async def test_queue_is_first_in_first_out_with_requeues_at_the_head(stores: list[Store]) -> None:
    backend, peer = stores
    for conversation_id in ("c1", "c2", "c3"):
        await backend.router.enqueue(conversation_id)
    await peer.router.enqueue("c0", at_head=True)
    await peer.router.enqueue("c2")
    assert await backend.router.waiting() == ["c0", "c1", "c2", "c3"]
    assert await peer.router.dequeue("c2") and not await peer.router.dequeue("c2")
    assert await backend.router.waiting() == ["c0", "c1", "c3"]


async def test_claim_goes_to_fewest_open_chats_then_longest_idle(backend: Store) -> None:
    assert await backend.router.claim_next(NOW) is None
    await backend.router.set_presence("bob", "online", 3, NOW + 1)
    await backend.router.set_presence("alice", "online", 3, NOW)  # idle longer than bob
    await backend.router.set_presence("carol", "away", 3, NOW - 100)
    for i in range(4):
        await backend.router.enqueue(f"c{i}")
    claims = [await backend.router.claim_next(NOW + 10 + i) for i in range(3)]
    assert [(c.conversation_id, c.agent_id) for c in claims if c] == [
        ("c0", "alice"),
        ("c1", "bob"),
        ("c2", "alice"),  # both hold one; alice has been idle since NOW+10, bob since NOW+11
    ]
    by_id = {p.agent_id: p for p in await backend.router.presence()}
    assert (by_id["alice"].open_chats, by_id["bob"].open_chats, by_id["carol"].open_chats) == (
        2,
        1,
        0,
    )
    assert by_id["carol"].status == "away" and by_id["alice"].capacity == 3
    assert await backend.router.held() == {"alice": ["c0", "c2"], "bob": ["c1"]}


async def test_claims_never_exceed_capacity_and_offline_agents_get_none(backend: Store) -> None:
    await backend.router.set_presence("alice", "online", 1, NOW)
    await backend.router.set_presence("bob", "offline", 5, NOW)
    for i in range(3):
        await backend.router.enqueue(f"c{i}")
    assert await backend.router.claim_next(NOW) is not None
    assert await backend.router.claim_next(NOW) is None
    assert await backend.router.waiting() == ["c1", "c2"]
    # Going away and back keeps the open chat (and so still no room).
    presence = await backend.router.set_presence("alice", "away", 1, NOW + 1)
    assert presence.open_chats == 1 and presence.status == "away"
    await backend.router.set_presence("alice", "online", 1, NOW + 2)
    assert await backend.router.claim_next(NOW + 2) is None
    await backend.router.release("alice", "c0", NOW + 3)
    claim = await backend.router.claim_next(NOW + 4)
    assert claim is not None and (claim.conversation_id, claim.agent_id) == ("c1", "alice")


async def test_assign_moves_a_chat_only_to_an_online_agent_with_room(stores: list[Store]) -> None:
    backend, peer = stores
    await backend.router.set_presence("alice", "online", 2, NOW)
    await backend.router.set_presence("bob", "online", 1, NOW)
    await backend.router.set_presence("carol", "away", 3, NOW)
    await backend.router.enqueue("c1")
    await backend.router.enqueue("c2")
    assert await backend.router.assign("c1", "alice", NOW)  # straight from the queue
    assert await backend.router.waiting() == ["c2"]
    assert await peer.router.assign("c1", "bob", NOW + 1)  # a transfer: alice no longer holds it
    await peer.router.release("alice", "c1", NOW + 1)
    assert await backend.router.held() == {"bob": ["c1"]}
    assert not await peer.router.assign("c2", "bob", NOW + 2)  # full
    assert not await peer.router.assign("c2", "carol", NOW + 2)  # away
    assert not await peer.router.assign("c2", "nobody", NOW + 2)
    assert await backend.router.waiting() == ["c2"]


async def test_pick_takes_a_waiting_chat_out_of_turn_once(stores: list[Store]) -> None:
    backend, peer = stores
    await backend.router.set_presence("alice", "away", 1, NOW)  # picking is her own choice
    await backend.router.set_presence("bob", "online", 2, NOW)
    await backend.router.set_presence("dave", "offline", 2, NOW)
    for conversation_id in ("c1", "c2", "c3"):
        await backend.router.enqueue(conversation_id)
    assert not await peer.router.pick("c2", "dave", NOW)  # offline
    picks = await asyncio.gather(
        backend.router.pick("c2", "alice", NOW), peer.router.pick("c2", "bob", NOW)
    )
    assert sorted(picks) == [False, True]  # one of them, once
    assert await backend.router.waiting() == ["c1", "c3"]
    holder = "alice" if picks[0] else "bob"
    assert await peer.router.held() == {holder: ["c2"]}
    assert not await peer.router.pick("c9", "bob", NOW)  # not waiting
    if holder == "alice":
        assert not await peer.router.pick("c3", "alice", NOW)  # no room left
        assert await backend.router.waiting() == ["c1", "c3"]


async def test_concurrent_claims_from_many_tasks_and_workers_never_double_assign(
    stores: list[Store],
) -> None:
    capacities = {"a1": 1, "a2": 2, "a3": 3, "a4": 2, "a5": 1}
    for agent_id, capacity in capacities.items():
        await stores[0].router.set_presence(agent_id, "online", capacity, NOW)
    for i in range(20):
        await stores[i % 2].router.enqueue(f"c{i:02}")

    async def claim_all(backend: Store) -> list[tuple[str, str]]:
        got = []
        while (claim := await backend.router.claim_next(NOW)) is not None:
            got.append((claim.conversation_id, claim.agent_id))
        return got

    rounds = await asyncio.gather(*(claim_all(stores[i % 2]) for i in range(12)))
    claims = [c for r in rounds for c in r]
    assigned = [conversation_id for conversation_id, _ in claims]
    assert len(assigned) == len(set(assigned)) == sum(capacities.values())
    assert sorted(assigned) == [f"c{i:02}" for i in range(len(assigned))]  # FIFO: the oldest
    held = await stores[1].router.held()
    assert {a: len(held.get(a, [])) for a in capacities} == capacities
    assert len(await stores[0].router.waiting()) == 20 - len(assigned)


async def test_concurrent_transfers_to_one_agent_respect_capacity(stores: list[Store]) -> None:
    await stores[0].router.set_presence("bob", "online", 2, NOW)
    results = await asyncio.gather(
        *(stores[i % 2].router.assign(f"c{i}", "bob", NOW) for i in range(10))
    )
    assert sum(results) == 2
    assert len((await stores[1].router.held())["bob"]) == 2


# --- fan-out ---------------------------------------------------------------------------------


async def test_publish_reaches_subscribed_channels_with_seq_and_text(stores: list[Store]) -> None:
    backend, peer = stores
    got: asyncio.Queue[tuple[str, int | None, str]] = asyncio.Queue()
    backend.bus.set_listeners(
        lambda channel, seq, text: got.put_nowait((channel, seq, text)), lambda *_: None
    )

    async def next_message() -> tuple[str, int | None, str]:
        return await asyncio.wait_for(got.get(), 5)

    await backend.bus.follow("c:one")
    await backend.bus.follow("agents")
    await peer.bus.publish("c:other", "not for us", 1)
    await peer.bus.publish("c:one", '{"seq": 7}', 7)
    await peer.bus.publish("c:one", "typing", None)
    assert await next_message() == ("c:one", 7, '{"seq": 7}')
    assert await next_message() == ("c:one", None, "typing")
    await backend.bus.unfollow("c:one")
    await peer.bus.publish("c:one", "after unsubscribe", 8)
    await peer.bus.publish("agents", "last")
    assert await next_message() == ("agents", None, "last")
    assert got.empty()


async def test_append_published_stores_then_reaches_followers_here_and_on_other_workers_once(
    stores: list[Store],
) -> None:
    backend, peer = stores
    here: asyncio.Queue[tuple[str, int | None, str]] = asyncio.Queue()
    there: asyncio.Queue[tuple[str, int | None, str]] = asyncio.Queue()
    backend.bus.set_listeners(lambda *event: here.put_nowait(event), lambda *_: None)
    if peer is not backend:
        peer.bus.set_listeners(lambda *event: there.put_nowait(event), lambda *_: None)
        await peer.bus.follow("c:one")
    await backend.bus.follow("c:one")
    await backend.records.create("one", "s1", doc(messages=0, created_at=NOW))
    log = backend.log
    first = await log.append_published(
        "one", event("one", "hi"), "m1", doc(messages=1), backend.bus, "c:one"
    )
    again = await log.append_published(
        "one", event("one", "hi"), "m1", doc(messages=9), backend.bus, "c:one"
    )
    assert (first.seq, first.duplicate) == (1, False) and (again.seq, again.duplicate) == (1, True)
    assert await asyncio.wait_for(here.get(), 5) == ("c:one", 1, first.text)
    if peer is not backend:
        assert await asyncio.wait_for(there.get(), 5) == ("c:one", 1, first.text)
    await asyncio.sleep(0.2)  # a duplicate is published nowhere, and nothing twice
    assert here.empty() and there.empty()
    assert await peer.log.read("one") == [(1, first.text)]
    assert (await peer.records.get("one") or {}).get("messages") == "1"  # set once, when new


async def test_latest_revised_is_the_record_of_their_newest_conversation(
    stores: list[Store],
) -> None:
    backend, peer = stores
    assert await peer.records.latest_revised("s1") is None
    await backend.records.create("c1", "s1", doc(status="closed", created_at=NOW))
    await backend.records.create("c2", "s1", doc(status="bot", created_at=NOW + 5))
    await backend.records.create("c3", "s2", doc(status="bot", created_at=NOW + 10))
    latest = await peer.records.latest_revised("s1")
    assert latest is not None and latest[0] == "c2" and latest[1] is not None
    assert json.loads(latest[1]["status"]) == "bot"
    assert json.loads(latest[1]["created_at"]) == NOW + 5
    await backend.records.move("c2", "s1", "s2")
    latest = await peer.records.latest_revised("s1")
    assert latest is not None and latest[0] == "c1" and latest[1] is not None
    assert json.loads(latest[1]["status"]) == "closed"


# --- agent accounts ----------------------------------------------------------------------------


async def test_read_gives_a_page_when_asked_for_a_limit(backend: Store) -> None:
    for n in range(5):
        await backend.log.append("c1", event("c1", f"m{n}"))
    assert [seq for seq, _ in await backend.log.read("c1", 1, limit=2)] == [2, 3]
    assert [seq for seq, _ in await backend.log.read("c1", 3, limit=10)] == [4, 5]


async def test_find_returns_the_event_a_client_id_was_stored_as(backend: Store) -> None:
    await backend.log.append("c1", event("c1", "first"))
    stored = await backend.log.append("c1", event("c1", "second"), client_id="m2")
    found = await backend.log.find("c1", "m2")
    assert found is not None and (found.seq, found.text, found.duplicate) == (2, stored.text, True)
    assert await backend.log.find("c1", "other") is None
    assert await backend.log.find("nothing", "m2") is None


async def test_a_grace_period_is_shared_and_ends_for_exactly_one_caller(
    stores: list[Store],
) -> None:
    """Any worker sees an agent's grace period; ending it gives the status to one caller."""
    first, second = stores
    await first.router.set_presence("alice", "away", 30, NOW)
    await first.router.grace("alice", "away", NOW + 5)
    seen = {a.agent_id: a for a in await second.router.presence()}["alice"]
    assert (seen.status, seen.chosen, seen.capacity) == ("offline", "away", 30)
    assert await second.router.graces() == {"alice": ("away", NOW + 5)}
    ended = await asyncio.gather(first.router.end_grace("alice"), second.router.end_grace("alice"))
    assert sorted(ended, key=str) == [None, "away"]
    assert await first.router.graces() == {}


async def test_agent_accounts_are_stored_listed_and_removed(stores: list[Store]) -> None:
    backend, peer = stores
    await backend.accounts.put("bob", '{"id": "bob"}')
    await backend.accounts.put("alice", '{"id": "alice"}')
    await backend.accounts.put("bob", '{"id": "bob", "name": "Bob"}')
    assert await peer.accounts.get("bob") == '{"id": "bob", "name": "Bob"}'
    assert await peer.accounts.get("nobody") is None
    assert await peer.accounts.all() == ['{"id": "alice"}', '{"id": "bob", "name": "Bob"}']
    assert await peer.accounts.remove("alice") and not await peer.accounts.remove("alice")
    assert await backend.accounts.all() == ['{"id": "bob", "name": "Bob"}']


# --- Redis only ----------------------------------------------------------------------------------


async def test_redis_presence_expires_when_its_worker_stops_refreshing() -> None:
    prefix = unique_prefix()
    worker = RedisStore(REDIS_URL, prefix=prefix, presence_ttl=0.3)
    other = RedisStore(REDIS_URL, prefix=prefix)
    await worker.start()
    await other.start()
    try:
        await worker.router.set_presence("alice", "online", 2, NOW)
        await asyncio.sleep(0.6)  # longer than the TTL: the live worker keeps it
        assert [p.status for p in await other.router.presence()] == ["online"]
        await worker.close()  # the worker dies: nobody refreshes alice any more

        async def offline() -> None:
            while [p.status for p in await other.router.presence()] != ["offline"]:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(offline(), 5)
        assert (await other.router.presence())[0].capacity == 2
        await other.router.enqueue("c1")
        assert await other.router.claim_next(NOW) is None
    finally:
        await other.close()
        await drop_keys(prefix)


async def test_redis_unreachable_raises_store_unavailable() -> None:
    from chatserver.store.ports import StoreUnavailable

    backend = RedisStore("redis://127.0.0.1:1/0", prefix=unique_prefix())
    with pytest.raises(StoreUnavailable):
        await backend.start()
    with pytest.raises(StoreUnavailable):
        await backend.log.append("c1", event("c1", "x"))
    await backend.close()


# --- trays (offline inbox, mail outbox) ------------------------------------------------------


async def test_trays_keep_items_by_score_and_one_worker_wins_a_move(stores: list[Store]) -> None:
    one, two = stores
    await one.trays.put("outbox", "m2", NOW + 5, '{"to":"b"}')
    await one.trays.put("outbox", "m1", NOW, '{"to":"a"}')
    await one.trays.put("inbox", "x", NOW, "{}")
    due = await two.trays.items("outbox", until=NOW + 1)
    assert [(i.item_id, i.score, i.text) for i in due] == [("m1", NOW, '{"to":"a"}')]
    assert [i.item_id for i in await two.trays.items("outbox")] == ["m1", "m2"]
    # Two workers claim the same item: exactly one moves it.
    moves = await asyncio.gather(
        one.trays.move("outbox", "m1", NOW, NOW + 60), two.trays.move("outbox", "m1", NOW, NOW + 61)
    )
    assert sorted(moves) == [False, True]
    assert (await one.trays.get("outbox", "m1")).score in (NOW + 60, NOW + 61)  # type: ignore[union-attr]
    assert await two.trays.remove("outbox", "m1") is True
    assert await one.trays.remove("outbox", "m1") is False
    assert await one.trays.get("outbox", "m1") is None
    assert [i.item_id for i in await one.trays.items("inbox")] == ["x"]


# --- search -----------------------------------------------------------------------------------


async def test_search_finds_conversations_by_every_word_newest_first_in_a_date_range(
    stores: list[Store],
) -> None:
    from chatserver.store.ports import search_words

    one, two = stores
    await one.search.index("c1", NOW, search_words("Jane Müller: my parcel arrived damaged"))
    await one.search.index("c2", NOW + 10, search_words("jane@example.com parcel missing refund"))
    await one.search.index("c3", NOW + 20, search_words("Parcel tracking? tag:vip"))
    assert await two.search.find(search_words("parcel"), 0, float("inf")) == ["c3", "c2", "c1"]
    assert await two.search.find(search_words("MULLER parcel"), 0, float("inf")) == ["c1"]
    assert await two.search.find(search_words("jane@example.com"), 0, float("inf")) == ["c2"]
    assert await two.search.find(search_words("parcel"), NOW + 5, NOW + 20) == ["c2"]
    assert await two.search.find(search_words("parcel"), 0, float("inf"), limit=1) == ["c3"]
    assert await two.search.find(search_words("nowhere"), 0, float("inf")) == []
    assert await two.search.find(search_words("parcel nowhere"), 0, float("inf")) == []
    assert await two.search.find([], NOW + 1, float("inf")) == ["c3", "c2"]
    # Re-indexing replaces a conversation's words.
    await two.search.index("c1", NOW, search_words("Jane Müller: resolved, tag refund"))
    assert await one.search.find(search_words("damaged"), 0, float("inf")) == []
    assert await one.search.find(search_words("refund"), 0, float("inf")) == ["c2", "c1"]


async def test_search_pages_through_many_matches_created_at_the_same_time(backend: Store) -> None:
    # "even" leads (the rarer word); one in ten of its ids matches, all at one creation time.
    def words(i: int) -> list[str]:
        even = ["even"] if i % 2 == 0 else []
        return even + (["mixed"] if i % 2 == 1 or i % 20 == 0 else [])

    await asyncio.gather(*(backend.search.index(f"c{i:04d}", NOW, words(i)) for i in range(3000)))
    expected = {f"c{i:04d}" for i in range(0, 3000, 20)}
    found = await backend.search.find(["even", "mixed"], 0, float("inf"), limit=50)
    assert len(found) == len(set(found)) == 50 and set(found) <= expected
    everything = await backend.search.find(["mixed", "even"], 0, float("inf"), limit=500)
    assert sorted(everything) == sorted(expected)


# --- attachments (files) ----------------------------------------------------------------------


async def test_files_are_stored_by_key_and_read_back_from_another_worker(
    stores: list[Store],
) -> None:
    one, other = stores
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    assert not await one.files.exists("c1/f1")
    assert await one.files.get("c1/f1") is None
    await one.files.put("c1/f1", photo, "image/jpeg")
    await one.files.put("c2/f1", b"%PDF-1.7 other", "application/pdf")
    assert await other.files.exists("c1/f1")
    assert await other.files.get("c1/f1") == photo
    assert await other.files.get("c2/f1") == b"%PDF-1.7 other"
    assert await other.files.delete("c1/f1")
    assert not await one.files.exists("c1/f1")
    assert await one.files.get("c1/f1") is None
    assert not await one.files.delete("c1/f1")
    assert await one.files.get("c2/f1") == b"%PDF-1.7 other"


async def test_file_keys_cannot_reach_outside_the_store(backend: Store) -> None:
    for key in ("../secret.key", "c1/../../x", "/etc/passwd", "a/b/c", ""):
        with pytest.raises(ValueError):
            await backend.files.put(key, b"x", "image/png")


# --- the shop's configuration ---------------------------------------------------------------


async def test_shop_documents_change_together_with_their_audit_entry_on_every_worker(
    stores: list[Store],
) -> None:
    one, other = stores
    assert await one.config.documents() == {}
    await one.config.change({"shop.toml": "a = 1", "faq.toml": "b = 2"}, '{"n": 1}')
    await one.config.change({"faq.toml": None, "canned.toml": "c = 3"}, '{"n": 2}')
    assert await other.config.documents() == {"shop.toml": "a = 1", "canned.toml": "c = 3"}
    assert await other.config.audit() == ['{"n": 2}', '{"n": 1}']
    assert await other.config.audit(limit=1) == ['{"n": 2}']


async def test_a_conversation_waits_for_a_speaker_of_its_language_until_anyone_may_take_it(
    stores: list[Store],
) -> None:
    backend, peer = stores
    await backend.router.set_presence("anna", "online", 2, NOW, languages=["en"])
    await backend.router.enqueue("c-de", language="de", anyone_from=NOW + 30)
    await peer.router.enqueue("c-en", language="en", anyone_from=NOW + 30)
    # The German chat is first in line, but anna speaks only English: she gets the one behind.
    claim = await peer.router.claim_next(NOW + 1)
    assert claim is not None and (claim.conversation_id, claim.agent_id) == ("c-en", "anna")
    assert await backend.router.claim_next(NOW + 29) is None
    assert await backend.router.waiting() == ["c-de"]
    # Once the response target is at risk, anyone with a seat takes it.
    claim = await backend.router.claim_next(NOW + 30)
    assert claim is not None and (claim.conversation_id, claim.agent_id) == ("c-de", "anna")
    by_id = {p.agent_id: p for p in await peer.router.presence()}
    assert by_id["anna"].languages == ("en",)


async def test_among_speakers_fewest_open_chats_then_longest_idle_wins(stores: list[Store]) -> None:
    backend, peer = stores
    await backend.router.set_presence("anna", "online", 3, NOW - 50, languages=["en"])
    await backend.router.set_presence("dora", "online", 3, NOW, languages=["de", "en"])
    await peer.router.set_presence("dirk", "online", 3, NOW + 1, languages=["de"])
    for i in range(3):
        await backend.router.enqueue(f"c{i}", language="de", anyone_from=NOW + 100)
    claims = [await peer.router.claim_next(NOW + 10 + i) for i in range(4)]
    assert [(c.conversation_id, c.agent_id) for c in claims if c] == [
        ("c0", "dora"),  # anna is idle longest but speaks no German
        ("c1", "dirk"),
        ("c2", "dora"),  # both hold one; dora idle since NOW+10, dirk since NOW+11
    ]
    assert claims[3] is None
    by_id = {p.agent_id: p for p in await backend.router.presence()}
    assert by_id["dora"].languages == ("de", "en") and by_id["anna"].open_chats == 0


async def test_enqueue_again_relabels_a_waiting_conversation_in_its_place(
    stores: list[Store],
) -> None:
    backend, peer = stores
    await backend.router.enqueue("c1", language="en", anyone_from=NOW + 30)
    await backend.router.enqueue("c2")
    await backend.router.set_presence("pia", "online", 1, NOW, languages=["pl"])
    await peer.router.enqueue("c1", language="pl", anyone_from=NOW + 30)  # its language is known
    assert await backend.router.waiting() == ["c1", "c2"]
    claim = await peer.router.claim_next(NOW + 1)
    assert claim is not None and (claim.conversation_id, claim.agent_id) == ("c1", "pia")
    # A dequeued conversation's label goes with it: queued again unlabelled, anyone may take it.
    await backend.router.enqueue("c3", language="ja", anyone_from=NOW + 30)
    assert await backend.router.dequeue("c3")
    await backend.router.enqueue("c3")
    await backend.router.release("pia", "c1", NOW + 2)
    await backend.router.dequeue("c2")
    claim = await backend.router.claim_next(NOW + 3)
    assert claim is not None and (claim.conversation_id, claim.agent_id) == ("c3", "pia")


# --- reviews --------------------------------------------------------------------------------


async def test_reviews_are_kept_per_conversation_and_listed_by_agent_and_by_time(
    stores: list[Store],
) -> None:
    one, other = stores
    await one.reviews.put("c1", "ann", NOW, '{"r": 1}')
    await one.reviews.put("c2", "ann", NOW + 10, '{"r": 2}')
    await other.reviews.put("c3", "bob", NOW + 5, '{"r": 3}')
    await other.reviews.put("c1", "ann", NOW, '{"r": 4}')  # a second review replaces the first
    assert await other.reviews.get("c1") == '{"r": 4}'
    assert await one.reviews.get("none") is None
    assert await other.reviews.of_agent("ann") == ['{"r": 2}', '{"r": 4}']
    assert await one.reviews.of_agent("ann", limit=1) == ['{"r": 2}']
    assert await one.reviews.of_agent("nobody") == []
    assert await other.reviews.between(NOW, NOW + 10) == ['{"r": 3}', '{"r": 4}']
    assert await one.reviews.between(NOW + 1, NOW + 11) == ['{"r": 2}', '{"r": 3}']
    assert await one.reviews.between(NOW + 20, NOW + 30) == []


# --- API keys and ledgers (notices) -------------------------------------------------------------


async def test_api_keys_are_stored_replaced_and_listed_on_every_worker(
    stores: list[Store],
) -> None:
    one, two = stores
    assert await two.api_keys.get("k1") is None
    await one.api_keys.put("k2", '{"id":"k2"}')
    await one.api_keys.put("k1", '{"id":"k1"}')
    await one.api_keys.put("k1", '{"id":"k1","revoked_at":1}')
    assert await two.api_keys.get("k1") == '{"id":"k1","revoked_at":1}'
    assert await two.api_keys.all() == ['{"id":"k1","revoked_at":1}', '{"id":"k2"}']


async def test_a_ledger_records_an_entry_once_and_numbers_entries_in_order(
    stores: list[Store],
) -> None:
    one, two = stores
    # The same entry from two workers at once: one records it, the other finds it.
    both = await asyncio.gather(
        one.ledger.record("notices", "n-1", NOW, '{"a":1}'),
        two.ledger.record("notices", "n-1", NOW + 1, '{"a":2}'),
    )
    assert sorted(e.duplicate for e in both) == [False, True]
    assert {(e.number, e.entry_id) for e in both} == {(1, "n-1")}
    assert len({(e.at, e.text) for e in both}) == 1  # the duplicate gets the original
    second = await two.ledger.record("notices", "n-2", NOW + 2, '{"b":1}')
    other = await one.ledger.record("choices", "n-1", NOW + 3, "{}")
    assert (second.number, second.duplicate, other.number) == (2, False, 1)
    listed = await one.ledger.after("notices")
    assert [(e.number, e.entry_id) for e in listed] == [(1, "n-1"), (2, "n-2")]
    assert [(e.entry_id, e.at, e.text) for e in await two.ledger.after("notices", 1)] == [
        ("n-2", NOW + 2, '{"b":1}')
    ]
    assert await one.ledger.after("notices", 2) == []
    assert len(await one.ledger.after("notices", 0, limit=1)) == 1
    assert await one.ledger.after("nothing") == []
    assert await two.ledger.get("notices", "n-2") == LedgerEntry(
        2, "n-2", NOW + 2, '{"b":1}', duplicate=True
    )
    assert await two.ledger.get("notices", "n-3") is None
