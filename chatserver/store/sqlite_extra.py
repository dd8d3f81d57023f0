"""Trays and full-text search in the embedded store's SQLite file (FTS5)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chatserver.store._sqlite_db import Database
from chatserver.store.ports import Search, TrayItem, Trays

SCHEMA = """
CREATE TABLE IF NOT EXISTS trays (
    tray TEXT NOT NULL,
    item_id TEXT NOT NULL,
    score REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tray, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trays_score ON trays (tray, score);
CREATE TABLE IF NOT EXISTS search_docs (
    rowid INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_text
    USING fts5(words, tokenize = 'unicode61 remove_diacritics 2');
"""

# A document's rowid is its creation time in milliseconds times a million plus a slot (up to a
# million conversations per millisecond; rowids last until the year 2116): FTS5 then walks its lists in rowid order, newest first, and
# stops at the limit, instead of sorting every match of a common word by a date column.
_SLOTS = 1_000_000
_LAST_ROWID = 2**62


def _rowid(at: float) -> int:
    millis = min(max(at * 1000, 0.0), _LAST_ROWID / _SLOTS)
    return int(millis) * _SLOTS


class SQLiteTrays(Trays):
    """Trays in one table; one process by design, so a lock makes ``move`` atomic."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    async def put(self, tray: str, item_id: str, score: float, text: str) -> None:
        upsert = "INSERT OR REPLACE INTO trays (tray, item_id, score, body) VALUES (?, ?, ?, ?)"
        await self._db.write([(upsert, (tray, item_id, score, text))])

    async def items(
        self, tray: str, until: float = float("inf"), limit: int = 500
    ) -> list[TrayItem]:
        rows = await self._db.read(
            "SELECT item_id, score, body FROM trays WHERE tray = ? AND score <= ?"
            " ORDER BY score, item_id LIMIT ?",
            (tray, min(until, 1e300), limit),
        )
        return [TrayItem(i, s, b) for i, s, b in rows]

    async def get(self, tray: str, item_id: str) -> TrayItem | None:
        rows = await self._db.read(
            "SELECT item_id, score, body FROM trays WHERE tray = ? AND item_id = ?",
            (tray, item_id),
        )
        return TrayItem(*rows[0]) if rows else None

    async def move(self, tray: str, item_id: str, expected: float, score: float) -> bool:
        async with self._lock:
            item = await self.get(tray, item_id)
            if item is None or item.score != expected:
                return False
            update = "UPDATE trays SET score = ? WHERE tray = ? AND item_id = ?"
            await self._db.write([(update, (score, tray, item_id))])
            return True

    async def remove(self, tray: str, item_id: str) -> bool:
        async with self._lock:
            existed = await self.get(tray, item_id) is not None
            delete = "DELETE FROM trays WHERE tray = ? AND item_id = ?"
            await self._db.write([(delete, (tray, item_id))])
            return existed


class SQLiteSearch(Search):
    """An FTS5 table of each conversation's words, its rowid ordered by creation time."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def index(self, conversation_id: str, created_at: float, words: Sequence[str]) -> None:
        base = _rowid(created_at)
        doc_rowid = "(SELECT rowid FROM search_docs WHERE conversation_id = ?)"
        await self._db.write(
            [
                (
                    "INSERT OR IGNORE INTO search_docs (rowid, conversation_id)"
                    " SELECT COALESCE(MAX(rowid) + 1, ?1), ?2 FROM search_docs"
                    " WHERE rowid BETWEEN ?1 AND ?1 + ?3",
                    (base, conversation_id, _SLOTS - 1),
                ),
                (f"DELETE FROM search_text WHERE rowid = {doc_rowid}", (conversation_id,)),
                (
                    f"INSERT INTO search_text (rowid, words) SELECT {doc_rowid}, ?",
                    (conversation_id, " ".join(words)),
                ),
            ]
        )

    async def find(
        self, words: Sequence[str], since: float, until: float, limit: int = 50
    ) -> list[str]:
        low, high = _rowid(since), _rowid(until)
        if not words:
            rows = await self._db.read(
                "SELECT conversation_id FROM search_docs WHERE rowid >= ? AND rowid < ?"
                " ORDER BY rowid DESC LIMIT ?",
                (low, high, limit),
            )
            return [row[0] for row in rows]
        # Words are letters and digits only (search_words), so quoting each is safe.
        match = " ".join(f'"{word}"' for word in words)
        rows = await self._db.read(
            "SELECT d.conversation_id FROM search_docs d JOIN ("
            " SELECT rowid FROM search_text WHERE search_text MATCH ? AND rowid >= ?"
            " AND rowid < ? ORDER BY rowid DESC LIMIT ?) m ON m.rowid = d.rowid"
            " ORDER BY d.rowid DESC",
            (match, low, high, limit),
        )
        return [row[0] for row in rows]
