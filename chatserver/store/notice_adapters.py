"""Adapters of the notice ports (:mod:`chatserver.store.notice_ports`): memory, SQLite, Redis."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import redis.asyncio as aioredis

from chatserver.store._redis_base import Keys, guard, lua
from chatserver.store._sqlite_db import Database
from chatserver.store.notice_ports import ApiKeys, Ledger, LedgerEntry

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    ledger TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    at REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (ledger, entry_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS ledger_number ON ledger (ledger, number);
"""


class MemoryApiKeys(ApiKeys):
    """Key records in a dictionary."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    async def put(self, key_id: str, record: str) -> None:
        self._keys[key_id] = record

    async def get(self, key_id: str) -> str | None:
        return self._keys.get(key_id)

    async def all(self) -> list[str]:
        return [self._keys[k] for k in sorted(self._keys)]


class MemoryLedger(Ledger):
    """Ledgers as lists and dictionaries; nothing here awaits, so ``record`` is atomic."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, LedgerEntry]] = {}
        self._order: dict[str, list[LedgerEntry]] = {}

    async def record(self, ledger: str, entry_id: str, at: float, text: str) -> LedgerEntry:
        entries = self._entries.setdefault(ledger, {})
        found = entries.get(entry_id)
        if found is not None:
            return LedgerEntry(found.number, entry_id, found.at, found.text, duplicate=True)
        order = self._order.setdefault(ledger, [])
        entry = LedgerEntry(len(order) + 1, entry_id, at, text)
        entries[entry_id] = entry
        order.append(entry)
        return entry

    async def get(self, ledger: str, entry_id: str) -> LedgerEntry | None:
        found = self._entries.get(ledger, {}).get(entry_id)
        return (
            None
            if found is None
            else LedgerEntry(found.number, entry_id, found.at, found.text, duplicate=True)
        )

    async def after(self, ledger: str, number: int = 0, limit: int = 500) -> list[LedgerEntry]:
        return self._order.get(ledger, [])[max(number, 0) :][:limit]


class SQLiteApiKeys(ApiKeys):
    """Key records in one table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, key_id: str, record: str) -> None:
        upsert = "INSERT OR REPLACE INTO api_keys (key_id, record) VALUES (?, ?)"
        await self._db.write([(upsert, (key_id, record))])

    async def get(self, key_id: str) -> str | None:
        rows = await self._db.read("SELECT record FROM api_keys WHERE key_id = ?", (key_id,))
        return str(rows[0][0]) if rows else None

    async def all(self) -> list[str]:
        rows = await self._db.read("SELECT record FROM api_keys ORDER BY key_id")
        return [str(row[0]) for row in rows]


class SQLiteLedger(Ledger):
    """Ledgers in one table; one process by design, so a lock makes ``record`` atomic."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    async def record(self, ledger: str, entry_id: str, at: float, text: str) -> LedgerEntry:
        async with self._lock:
            found = await self.get(ledger, entry_id)
            if found is not None:
                return found
            insert = (
                "INSERT INTO ledger (ledger, entry_id, number, at, body) SELECT ?1, ?2,"
                " COALESCE(MAX(number), 0) + 1, ?3, ?4 FROM ledger WHERE ledger = ?1"
            )
            await self._db.write([(insert, (ledger, entry_id, at, text))])
            stored = await self.get(ledger, entry_id)
            assert stored is not None  # written just above, under the lock
            return LedgerEntry(stored.number, entry_id, at, text)

    async def get(self, ledger: str, entry_id: str) -> LedgerEntry | None:
        rows = await self._db.read(
            "SELECT number, at, body FROM ledger WHERE ledger = ? AND entry_id = ?",
            (ledger, entry_id),
        )
        if not rows:
            return None
        number, at, body = rows[0]
        return LedgerEntry(int(number), entry_id, float(at), str(body), duplicate=True)

    async def after(self, ledger: str, number: int = 0, limit: int = 500) -> list[LedgerEntry]:
        rows = await self._db.read(
            "SELECT number, entry_id, at, body FROM ledger WHERE ledger = ? AND number > ?"
            " ORDER BY number LIMIT ?",
            (ledger, number, limit),
        )
        return [LedgerEntry(int(n), str(i), float(a), str(b)) for n, i, a, b in rows]


class RedisApiKeys(ApiKeys):
    """Key records in one hash."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._hash = keys("apikeys")

    async def put(self, key_id: str, record: str) -> None:
        with guard():
            await self._redis.hset(self._hash, key_id, record)

    async def get(self, key_id: str) -> str | None:
        with guard():
            found = await self._redis.hget(self._hash, key_id)
        return None if found is None else str(found)

    async def all(self) -> list[str]:
        with guard():
            found = await self._redis.hgetall(self._hash)
        return [str(found[k]) for k in sorted(found)]


class RedisLedger(Ledger):
    """Each ledger a hash of entries, a sorted set of their numbers and a counter; ``record``
    is one Lua call, so two workers never record one entry twice."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._k = keys
        self._record = client.register_script(lua("ledger_record"))

    async def record(self, ledger: str, entry_id: str, at: float, text: str) -> LedgerEntry:
        keys = [
            self._k("ledger", ledger),
            self._k("ledgerorder", ledger),
            self._k("ledgern", ledger),
        ]
        with guard():
            number, stored_at, body, duplicate = await self._record(
                keys, [entry_id, repr(at), text]
            )
        return LedgerEntry(int(number), entry_id, float(stored_at), str(body), bool(duplicate))

    async def get(self, ledger: str, entry_id: str) -> LedgerEntry | None:
        with guard():
            body = await self._redis.hget(self._k("ledger", ledger), entry_id)
        if body is None:
            return None
        number, at, text = json.loads(body)
        return LedgerEntry(int(number), entry_id, float(at), str(text), duplicate=True)

    async def after(self, ledger: str, number: int = 0, limit: int = 500) -> list[LedgerEntry]:
        with guard():
            ids = cast(
                list[str],
                await self._redis.zrangebyscore(
                    self._k("ledgerorder", ledger), f"({number}", "+inf", start=0, num=limit
                ),
            )
            if not ids:
                return []
            bodies = await self._redis.hmget(self._k("ledger", ledger), ids)
        entries = []
        for entry_id, body in zip(ids, bodies, strict=True):
            if body is not None:
                n, at, text = json.loads(body)
                entries.append(LedgerEntry(int(n), entry_id, float(at), str(text)))
        return entries
