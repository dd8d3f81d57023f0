"""Adapters of the ShopConfig port: the shop's configuration documents and their audit log."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

from chatserver.store._redis_base import Keys, guard
from chatserver.store._sqlite_db import Database, Statement
from chatserver.store.ports import ShopConfig

AUDIT_KEPT = 1000
"""Audit entries kept; older ones are dropped."""

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS shop_documents (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
"""


class MemoryShopConfig(ShopConfig):
    """Documents in a dictionary."""

    def __init__(self) -> None:
        self._documents: dict[str, str] = {}
        self._audit: list[str] = []

    async def documents(self) -> dict[str, str]:
        return dict(self._documents)

    async def change(self, documents: Mapping[str, str | None], audit: str) -> None:
        for name, body in documents.items():
            if body is None:
                self._documents.pop(name, None)
            else:
                self._documents[name] = body
        self._audit = [*self._audit, audit][-AUDIT_KEPT:]

    async def audit(self, limit: int = 100) -> list[str]:
        return self._audit[::-1][:limit]


class SQLiteShopConfig(ShopConfig):
    """Documents and audit entries in two tables, changed in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def documents(self) -> dict[str, str]:
        rows = await self._db.read("SELECT name, body FROM shop_documents ORDER BY name")
        return {name: body for name, body in rows}

    async def change(self, documents: Mapping[str, str | None], audit: str) -> None:
        statements: list[Statement] = [
            ("DELETE FROM shop_documents WHERE name = ?", (name,))
            if body is None
            else ("INSERT OR REPLACE INTO shop_documents (name, body) VALUES (?, ?)", (name, body))
            for name, body in documents.items()
        ]
        statements.append(("INSERT INTO audit (entry) VALUES (?)", (audit,)))
        statements.append(
            ("DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", (AUDIT_KEPT,))
        )
        await self._db.write(statements)

    async def audit(self, limit: int = 100) -> list[str]:
        rows = await self._db.read("SELECT entry FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [row[0] for row in rows]


class RedisShopConfig(ShopConfig):
    """Documents in a hash and the audit log in a list, changed in one MULTI/EXEC."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._documents = keys("shop", "documents")
        self._audit = keys("shop", "audit")

    async def documents(self) -> dict[str, str]:
        with guard():
            found = await self._redis.hgetall(self._documents)
        return {_text(k): _text(v) for k, v in found.items()}

    async def change(self, documents: Mapping[str, str | None], audit: str) -> None:
        with guard():
            async with self._redis.pipeline(transaction=True) as tx:
                for name, body in documents.items():
                    if body is None:
                        tx.hdel(self._documents, name)
                    else:
                        tx.hset(self._documents, name, body)
                tx.lpush(self._audit, audit)
                tx.ltrim(self._audit, 0, AUDIT_KEPT - 1)
                await tx.execute()

    async def audit(self, limit: int = 100) -> list[str]:
        with guard():
            return [_text(e) for e in await self._redis.lrange(self._audit, 0, limit - 1)]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
