"""The embedded store's writer thread: batches grouped without changing what they do, committed
before anyone is answered, and the event loop never waits for the file."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, cast

import pytest

from chatserver.store._sqlite_db import Statement, _Batches
from chatserver.store.ports import REPORT_FIELDS, StoreUnavailable
from chatserver.store.sqlite import SQLiteStore


def fields(cid: str, sid: str, **more: object) -> dict[str, str]:
    doc = {"id": cid, "shopper_id": sid, "status": "queued", "created_at": 10.0, **more}
    return {name: json.dumps(value) for name, value in doc.items()}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    one = SQLiteStore(tmp_path / "chat.sqlite3")
    await one.start()
    yield one
    await one.close()


def on_disk(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """What another connection reads from the file: only committed rows."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def in_one_batch(store: SQLiteStore, *writes: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run writes in one batch: they queue while the writer waits for another process's lock."""
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    blocker = asyncio.ensure_future(
        store.db.write([("INSERT INTO agents (id, record) VALUES ('blocker', '{}')", ())])
    )
    await asyncio.sleep(0.1)  # the writer has taken it, and waits for the lock
    assert not blocker.done()
    tasks = [asyncio.ensure_future(write) for write in writes]
    await asyncio.sleep(0.05)
    other.execute("ROLLBACK")
    other.close()
    await blocker
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_appends_and_record_writes_in_one_batch_are_all_stored_last_write_winning(
    store: SQLiteStore,
) -> None:
    for i in range(5):
        await store.records.create(f"c{i}", f"s{i}", fields(f"c{i}", f"s{i}"))

    async def message(cid: str, n: int) -> int:
        render = lambda seq: json.dumps({"c": cid, "seq": seq, "n": n})  # noqa: E731
        appended = await store.log.append(cid, render, f"m{n}", {"messages": str(n)})
        return appended.seq

    # In one batch: twenty writes of each record, run as one bulk statement per table.
    seqs = await in_one_batch(store, *(message(f"c{n % 5}", n) for n in range(100)))
    nested = {"tags": '["late", "Größe \\"L\\""]', "tone_by_agent": '{"a": [1, 0]}'}
    await store.records.update("c0", {"status": '"closed"', **nested})
    await store.write_back()  # as every second, before a report, and on close

    path = store.path
    for i in range(5):
        mine = [seq for n, seq in enumerate(seqs) if n % 5 == i]
        assert sorted(mine) == list(range(1, 21))
        rows = on_disk(
            path, "SELECT seq, body FROM events WHERE conversation_id = ? ORDER BY seq", (f"c{i}",)
        )
        assert [seq for seq, _ in rows] == list(range(1, 21))
        assert all(json.loads(str(body))["seq"] == seq for seq, body in rows)
        # The record holds the last append's fields, as memory does.
        doc, row = on_disk(
            path, "SELECT doc, report_row FROM conversations WHERE id = ?", (f"c{i}",)
        )[0]
        assert json.loads(str(doc))["messages"] == 95 + i
        expected = on_disk(
            path,
            "SELECT json_extract(doc, {}) FROM conversations WHERE id = ?".format(
                ", ".join(f"'$.{name}'" for name in REPORT_FIELDS)
            ),
            (f"c{i}",),
        )[0][0]
        assert json.loads(str(row)) == json.loads(str(expected))
    assert (
        json.loads(str(on_disk(path, "SELECT doc FROM conversations WHERE id = 'c0'")[0][0]))[
            "status"
        ]
        == "closed"
    )
    stored = json.loads(str(on_disk(path, "SELECT doc FROM conversations WHERE id = 'c0'")[0][0]))
    assert stored["tags"] == ["late", 'Größe "L"'] and stored["tone_by_agent"] == {"a": [1, 0]}
    # A retried client id still finds its event.
    again = await store.log.append("c3", lambda seq: "{}", "m8", {"messages": "0"})
    assert again.duplicate and again.seq == seqs[8]


async def test_statements_on_one_table_keep_their_order_within_a_batch(store: SQLiteStore) -> None:
    db = store.db
    put = "INSERT INTO trays (tray, item_id, score, body) VALUES (?, ?, ?, '')"
    move = "UPDATE trays SET score = ? WHERE tray = ? AND item_id = ?"
    event = "INSERT INTO events (conversation_id, seq, client_id, body) VALUES (?, ?, NULL, '{}')"
    await in_one_batch(
        store,
        db.write([(put, ("t", "a", 1.0)), (event, ("c", 1))]),
        db.write([(move, (2.0, "t", "a")), (event, ("c", 2))]),
        db.write([(put, ("t", "b", 1.0))]),
        db.write([("DELETE FROM trays WHERE tray = ? AND item_id = ?", ("t", "a"))]),
        db.write([(put, ("t", "a", 5.0)), (event, ("c", 3))]),  # not before the delete
        db.write([(move, (7.0, "t", "a"))]),  # nor this before the insert
    )
    assert on_disk(store.path, "SELECT item_id, score FROM trays ORDER BY item_id") == [
        ("a", 7.0),
        ("b", 1.0),
    ]
    assert on_disk(store.path, "SELECT seq FROM events") == [(1,), (2,), (3,)]


def test_a_batch_groups_identical_statements_that_only_pass_other_tables() -> None:
    event = "INSERT INTO events VALUES (?)"
    record = "UPDATE conversations SET doc = ? WHERE id = ?"
    put = "INSERT INTO trays VALUES (?)"
    create = "INSERT INTO conversations VALUES (?)"
    batches = _Batches(frozenset({"events", "conversations", "trays"}), {event: 0, record: 1})
    requests: list[list[Statement]] = [
        [(event, (1,)), (record, ("a", "c1")), (put, ("t1",))],
        [(event, (2,)), (record, ("b", "c2")), (put, ("t2",))],
        [(create, ("c3",))],
        [(event, (3,)), (record, ("c", "c3"))],  # the update stays after the insert
        [("PRAGMA optimize", ())],  # names no table: nothing passes it
        [(event, (4,))],
    ]
    groups = batches.plan([(statements, cast(Any, None)) for statements in requests])
    # Statements with bulk forms: one group, in their order, run in one step.
    first = [(0, (1,)), (1, ("a", "c1")), (0, (2,)), (1, ("b", "c2"))]
    assert [(group.sql, group.rows) for group in groups] == [
        ("bulk", [*first, (0, (3,))]),  # the third event passes only other tables
        (put, [("t1",), ("t2",)]),
        (create, [("c3",)]),
        ("bulk", [(1, ("c", "c3"))]),
        ("PRAGMA optimize", [()]),
        ("bulk", [(0, (4,))]),
    ]


async def test_a_failing_statement_fails_its_batch_only(store: SQLiteStore) -> None:
    insert = "INSERT INTO agents (id, record) VALUES (?, '{}')"
    await store.db.write([(insert, ("a",))])
    results = await in_one_batch(
        store,
        store.db.write([(insert, ("b",))]),
        store.db.write([(insert, ("a",))]),  # the primary key refuses it
    )
    assert isinstance(results[0], StoreUnavailable)
    assert isinstance(results[1], StoreUnavailable)
    # One transaction: nothing of the failed batch is stored.
    assert on_disk(store.path, "SELECT id FROM agents ORDER BY id") == [("a",), ("blocker",)]
    await store.db.write([(insert, ("c",))])
    assert on_disk(store.path, "SELECT id FROM agents WHERE id != 'blocker'") == [("a",), ("c",)]


async def test_a_write_waiting_for_the_file_leaves_the_event_loop_free(store: SQLiteStore) -> None:
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        write = asyncio.ensure_future(
            store.db.write([("INSERT INTO agents (id, record) VALUES ('z', '{}')", ())])
        )
        started = time.monotonic()
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 1.0  # the loop kept turning
        assert not write.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    await asyncio.wait_for(write, 10)
    assert on_disk(store.path, "SELECT id FROM agents") == [("z",)]


OLD_CONVERSATIONS = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    shopper_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    doc TEXT NOT NULL,
    report_row TEXT GENERATED ALWAYS AS ({report_row}) STORED
);
CREATE INDEX conversations_shopper ON conversations (shopper_id, created_at);
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX conversations_report ON conversations (created_at, report_row);
"""


async def test_a_file_with_the_generated_report_column_is_migrated_at_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    paths = ", ".join(f"'$.{name}'" for name in REPORT_FIELDS)
    old = sqlite3.connect(path)
    old.executescript(OLD_CONVERSATIONS.replace("{report_row}", f"json_extract(doc, {paths})"))
    for i in range(3):
        doc = {"id": f"c{i}", "shopper_id": "s", "status": "queued", "created_at": 10.0 + i}
        old.execute(
            "INSERT INTO conversations (id, shopper_id, created_at, doc) VALUES (?, 's', ?, ?)",
            (f"c{i}", 10.0 + i, json.dumps(doc)),
        )
    old.commit()
    before = old.execute("SELECT id, report_row FROM conversations ORDER BY id").fetchall()
    old.close()

    store = SQLiteStore(path)
    await store.start()
    try:
        columns = {row[1]: row[6] for row in on_disk(path, "PRAGMA table_xinfo(conversations)")}
        assert columns["report_row"] == 0  # a plain column now
        assert on_disk(path, "SELECT id, report_row FROM conversations ORDER BY id") == before
        assert await store.memory_router.waiting() == ["c0", "c1", "c2"]
        await store.records.update("c1", {"status": '"closed"', "messages": "3"})
        await store.records.create("c9", "s", fields("c9", "s", created_at=20.0))
        rows = json.loads(await store.records.scan(0, 100))
        status, messages = REPORT_FIELDS.index("status"), REPORT_FIELDS.index("messages")
        assert sorted((row[0], row[status], row[messages]) for row in rows) == [
            ("c0", "queued", None),
            ("c1", "closed", 3),
            ("c2", "queued", None),
            ("c9", "queued", None),
        ]
    finally:
        await store.close()
    indexes = {
        row[0] for row in on_disk(path, "SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {"conversations_shopper", "conversations_created", "conversations_report"} <= indexes

    again = SQLiteStore(path)  # opens without migrating again, and keeps what was written
    await again.start()
    try:
        record = await again.records.get("c1")
        assert record is not None and record["messages"] == "3"
        assert len(json.loads(await again.records.scan(0, 100))) == 4
    finally:
        await again.close()


async def test_rows_made_for_other_report_fields_are_computed_again(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite3"
    store = SQLiteStore(path)
    await store.start()
    await store.records.create("c1", "s", fields("c1", "s", messages=4))
    await store.close()
    # As a version with other REPORT_FIELDS would have left it.
    db = sqlite3.connect(path)
    db.execute("UPDATE conversations SET report_row = '[\"c1\"]'")
    db.execute("PRAGMA user_version = 7")
    db.commit()
    db.close()

    store = SQLiteStore(path)
    await store.start()
    try:
        (row,) = json.loads(await store.records.scan(0, 100))
        assert len(row) == len(REPORT_FIELDS) and row[REPORT_FIELDS.index("messages")] == 4
    finally:
        await store.close()


async def test_writes_made_in_one_loop_pass_commit_as_one_transaction(store: SQLiteStore) -> None:
    insert = "INSERT INTO agents (id, record) VALUES (?, '{}')"
    await store.db.write([(insert, ("taken",))])
    # Three callbacks of one loop pass: a write, a pause that lets the writer thread run (it
    # could take what is queued by then), another write that fails. Handed over together at the
    # end of the pass, the two are one transaction and fail together.
    first = asyncio.ensure_future(store.db.write([(insert, ("a",))]))
    asyncio.get_running_loop().call_soon(time.sleep, 0.05)
    second = asyncio.ensure_future(store.db.write([(insert, ("taken",))]))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(result, StoreUnavailable) for result in results)
    assert on_disk(store.path, "SELECT id FROM agents") == [("taken",)]
    # The next pass's writes make a batch of their own.
    await asyncio.gather(*(store.db.write([(insert, (f"b{n}",))]) for n in range(3)))
    assert on_disk(store.path, "SELECT count(*) FROM agents") == [(4,)]


async def test_a_retry_after_a_restart_finds_its_message_without_an_index_of_client_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chat.sqlite3"
    old = sqlite3.connect(path)  # a file from before: with the index of client ids
    old.executescript(
        "CREATE TABLE events (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " client_id TEXT, body TEXT NOT NULL, PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;"
        " CREATE UNIQUE INDEX events_client_id ON events (conversation_id, client_id)"
        " WHERE client_id IS NOT NULL;"
    )
    old.close()
    first = SQLiteStore(path)
    await first.start()
    await first.records.create("c1", "s1", fields("c1", "s1"))
    sent = await first.log.append("c1", lambda seq: json.dumps({"seq": seq}), "m1")
    await first.log.append("c1", lambda seq: json.dumps({"seq": seq}), "m2")
    await first.close()
    assert on_disk(path, "SELECT name FROM sqlite_master WHERE name = 'events_client_id'") == []

    again = SQLiteStore(path)  # the server restarted; the shopper's widget sends m1 again
    await again.start()
    try:
        retry = await again.log.append("c1", lambda seq: json.dumps({"seq": seq}), "m1")
        assert retry.duplicate and (retry.seq, retry.text) == (sent.seq, sent.text)
        found = await again.log.find("c1", "m2")
        assert found is not None and found.seq == 2
        assert [seq for seq, _ in await again.log.read("c1")] == [1, 2]
    finally:
        await again.close()


def snapshot(store: SQLiteStore, to: Path) -> Path:
    """The file as a crash now would leave it: what is committed, nothing more."""
    source, copy = sqlite3.connect(store.path), sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return to


async def test_a_record_changed_by_messages_is_whole_after_a_stop_before_its_write_back(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "chat.sqlite3", write_back_s=3600)  # never, before the stop
    await store.start()
    try:
        await store.records.create("c1", "s1", fields("c1", "s1"))

        async def message(client_id: str, **changes: object) -> None:
            record = {name: json.dumps(value) for name, value in changes.items()}
            await store.log.append("c1", lambda seq: json.dumps({"seq": seq}), client_id, record)

        await message("m1", messages=1, status="queued", clock_started=11.0, question="parcel?")
        await message("m2", messages=2)
        # A write of the record itself (an agent takes the chat) comes between messages.
        await store.records.update("c1", {"status": '"assigned"', "agent_id": '"a1"'})
        await message("m3", messages=3, clock_started=None, response_times=[4.5])
        await store.log.append("c1", lambda seq: json.dumps({"seq": seq}), "note")  # no changes
        crashed = snapshot(store, tmp_path / "crashed.sqlite3")
        in_memory = await store.records.get("c1")
    finally:
        await store.close()
    # The record on disk was last written by the update: the third message's changes are only
    # in its event.
    disk = json.loads(str(on_disk(crashed, "SELECT doc FROM conversations")[0][0]))
    assert disk["messages"] == 2 and "response_times" not in disk

    again = SQLiteStore(crashed)
    await again.start()
    try:
        record = await again.records.get("c1")
        assert record == in_memory
        assert record is not None and json.loads(record["messages"]) == 3
        assert json.loads(record["status"]) == "assigned"  # not undone by older messages
        assert json.loads(record["clock_started"]) is None
        assert json.loads(record["question"]) == "parcel?"
        row = json.loads(await again.records.scan(0, 100))[0]
        assert row[REPORT_FIELDS.index("response_times")] == [4.5]
        assert row[REPORT_FIELDS.index("agent_id")] == "a1"
    finally:
        await again.close()


async def test_a_report_sees_every_message_before_records_are_written_back(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "chat.sqlite3", write_back_s=3600)
    await store.start()
    try:
        for i in range(3):
            await store.records.create(f"c{i}", f"s{i}", fields(f"c{i}", f"s{i}"))
            for n in range(1, i + 2):
                await store.log.append(f"c{i}", lambda seq: "{}", f"m{n}", {"messages": str(n)})
        rows = json.loads(await store.records.scan(0, 100))
        messages = REPORT_FIELDS.index("messages")
        assert sorted((row[0], row[messages]) for row in rows) == [("c0", 1), ("c1", 2), ("c2", 3)]
        picked = json.loads(await store.records.scan_fields(0, 100, ["id", "messages"]))
        assert sorted(map(tuple, picked)) == [("c0", 1), ("c1", 2), ("c2", 3)]
        assert [json.loads(r["messages"]) for r in await store.records.created_between(0, 100)] == [
            1,
            2,
            3,
        ]
    finally:
        await store.close()
