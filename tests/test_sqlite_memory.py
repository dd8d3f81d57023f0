"""The embedded store keeps a bounded number of records in memory, and forgets none of them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from chatserver.store import sqlite
from chatserver.store.sqlite import SQLiteStore


def fields(cid: str, sid: str, **more: object) -> dict[str, str]:
    doc = {"id": cid, "shopper_id": sid, "status": "queued", "created_at": 1.0, **more}
    return {name: json.dumps(value) for name, value in doc.items()}


async def test_finished_conversations_and_visitors_leave_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "_RECORDS_IN_MEMORY", 50)
    store = SQLiteStore(tmp_path / "chat.sqlite3")
    await store.start()
    try:

        async def one(i: int) -> None:
            cid, sid = f"c{i}", f"s{i}"
            await store.records.create(cid, sid, fields(cid, sid))
            assert await store.records.of_shopper(f"visitor{i}") == []  # a page view
            await store.log.append(
                cid, lambda seq: json.dumps({"seq": seq}), "m1", {"messages": "1"}
            )
            await store.records.update(cid, {"status": '"closed"'})

        # Many at once: records with writes in flight are never forgotten.
        await asyncio.gather(*(one(i) for i in range(300)))
        await one(300)  # the next write lets go of what the burst kept
        records = store.records
        assert isinstance(records, sqlite.SQLiteRecords)
        assert len(records.docs) <= 60 and len(records._by_shopper) <= 60
        for i in range(301):
            record = await records.get(f"c{i}")
            assert record is not None
            assert json.loads(record["status"]) == "closed" and record["messages"] == "1"
            assert await records.of_shopper(f"s{i}") == [f"c{i}"]
    finally:
        await store.close()
