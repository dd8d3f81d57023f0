"""The embedded store: every event and record in one SQLite file, routing and the bus in memory."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import logging
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chatserver.store._cache import LRU
from chatserver.store._shopper_filter import ShopperFilter
from chatserver.store._sqlite_db import Database, Statement
from chatserver.store.base import Store
from chatserver.store.bus import Bus
from chatserver.store.files import DiskFiles
from chatserver.store.notice_adapters import SQLITE_SCHEMA as _NOTICE_SCHEMA
from chatserver.store.notice_adapters import SQLiteApiKeys, SQLiteLedger
from chatserver.store.ports import (
    REPORT_FIELDS,
    AgentAccounts,
    Appended,
    Files,
    Log,
    RecordChanged,
    Records,
    Render,
    StoreUnavailable,
)
from chatserver.store.reviews import SQLITE_SCHEMA as _REVIEWS_SCHEMA
from chatserver.store.reviews import SQLiteReviews
from chatserver.store.shop_config import SQLITE_SCHEMA, SQLiteShopConfig
from chatserver.store.sqlite_extra import SCHEMA as _EXTRA_SCHEMA
from chatserver.store.sqlite_extra import SQLiteSearch, SQLiteTrays
from chatserver.store.sqlite_presence import PRESENCE_SCHEMA, SQLiteRouter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    client_id TEXT,
    body TEXT NOT NULL,
    fields TEXT,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
-- One process owns the file, and its memory knows every client id of a log it appends to (read
-- whole before the first append): an index of them cost each batch a quarter of its writing.
DROP INDEX IF EXISTS events_client_id;
CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""

# Reports read REPORT_FIELDS of up to 100k records at once: each row keeps them as one JSON array,
# written with the document (``_report_row``), so a report never parses whole documents. This SQL
# makes the same array from a stored document, for files written before the column was.
_REPORT_ROW = "json_extract(doc, {})".format(", ".join(f"'$.{name}'" for name in REPORT_FIELDS))
_CONVERSATIONS = """
CREATE TABLE IF NOT EXISTS {name} (
    id TEXT PRIMARY KEY,
    shopper_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    doc TEXT NOT NULL,
    report_row TEXT NOT NULL DEFAULT '[]',
    seq INTEGER NOT NULL DEFAULT 0
);
"""
_SCHEMA = (
    _SCHEMA
    + _CONVERSATIONS.format(name="conversations")
    + SQLITE_SCHEMA
    + _EXTRA_SCHEMA
    + _NOTICE_SCHEMA
    + _REVIEWS_SCHEMA
    + PRESENCE_SCHEMA
)
_CONVERSATION_INDEXES = """
CREATE INDEX IF NOT EXISTS conversations_shopper ON conversations (shopper_id, created_at);
CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at);
CREATE INDEX IF NOT EXISTS conversations_report ON conversations (created_at, report_row);
"""
# PRAGMA user_version: which REPORT_FIELDS the report_row column holds (0: a file made before).
_REPORT_LAYOUT = zlib.crc32(" ".join(("report_row", *REPORT_FIELDS)).encode()) & 0x7FFFFFFF

log = logging.getLogger("chatserver.store.sqlite")

_LOGS_IN_MEMORY = 20_000
_RECORDS_IN_MEMORY = 20_000
WRITE_BACK_S = 5.0
"""How long a record changed by events (a message) waits before it is written back: the events
carry its changes, so nothing waits on the write (``SQLiteRecords.changed``). A busy chat's
record is written once in this time, however many messages change it."""
WRITE_BACK_PASSES = 50
"""Write-back passes in ``WRITE_BACK_S``, each writing the records first changed that long ago:
many small batches rather than one large one that messages committed with it would wait for
(at 2,000 messages a second over 1,000 chats, 20 records a pass)."""


_FIRST_REVS = itertools.count(1 << 32, 1 << 32)


class _Doc(dict[str, str]):
    """A record's fields as memory keeps them, and its revision: every write of fields raises
    it by one. A record loaded again, once memory forgot it, starts from a revision no earlier
    load used, so a revision handed out before never names another state."""

    __slots__ = ("rev",)

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(fields)
        self.rev = next(_FIRST_REVS)


@dataclass
class _Tail:
    """What memory knows of one conversation's log: its last seq and the client ids in it."""

    last_seq: int
    seq_of: dict[str, int] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[int]] = field(default_factory=dict)


class SQLiteRecords(Records):
    """Records as JSON documents; the ones in use are kept in memory, so no read per message.

    One process owns the file, so memory's copy is the record: it keeps a revision per record
    (``_Doc``), and a caller who knows it uses the record it has without reading it again.

    A record changed by an event is written back later (``write_back``: each ``WRITE_BACK_S``,
    before a report reads records, on close), however many events changed it meanwhile: the
    event's row holds the changes it made, so the file always has them. A row's ``seq`` is the
    last event of its log the document includes; opening the file applies the changes of later
    events (``_replay``: a process that stopped before writing a record back).
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        # What memory keeps is bounded (least recently used first), but never a record or a
        # shopper's list with a write in flight, nor a record not written back: a read from disk
        # would miss that write.
        self._writing: dict[str, int] = {}
        # Records changed by events, not written back yet: the write-back pass of the first change.
        self._changed: dict[str, int] = {}
        self._pass = 0
        self.docs: LRU[str, _Doc] = LRU(
            _RECORDS_IN_MEMORY, keep=lambda key, _: key in self._writing or key in self._changed
        )
        # Each shopper's conversations as (created_at, id), sorted like the table's index; loaded
        # once, then kept in step by create: no read per shopper message.
        self._by_shopper: LRU[str, list[tuple[float, str]]] = LRU(
            _RECORDS_IN_MEMORY, keep=lambda key, _: key in self._writing
        )
        self._opening: dict[str, tuple[asyncio.Lock, int]] = {}
        # Shoppers who may have a conversation (loaded on start, added to on create): a returning
        # visitor who never wrote is answered without a read, and nothing is kept for them.
        self.with_conversations = ShopperFilter()

    async def create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        created_at = json.loads(fields.get("created_at", "0"))
        index = await self._shopper_index(shopper_id, adding=True)
        doc = _Doc(fields)
        statement = (
            _CREATE,
            (conversation_id, shopper_id, created_at, _doc(doc), _report_row(doc)),
        )
        with self.writing(conversation_id, shopper_id):
            bisect.insort(index, (created_at, conversation_id))
            self.docs.put(conversation_id, doc)
            await self._db.write([statement])

    async def open_or_create(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> str:
        # One process owns the file: a lock per shopper makes the check and the insert one step.
        lock, users = self._opening.get(shopper_id, (asyncio.Lock(), 0))
        self._opening[shopper_id] = (lock, users + 1)
        try:
            async with lock:
                index = await self._shopper_index(shopper_id)
                newest = await self._fields(index[-1][1]) if index else None
                if newest is not None and newest.get("status") != '"closed"':
                    return index[-1][1]
                await self.create(conversation_id, shopper_id, fields)
                return conversation_id
        finally:
            lock, users = self._opening[shopper_id]
            if users == 1:
                del self._opening[shopper_id]
            else:
                self._opening[shopper_id] = (lock, users - 1)

    async def update(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        doc = await self.loaded(conversation_id)
        with self.writing(conversation_id):
            await self._write([self.patch(conversation_id, doc, fields)], [conversation_id])

    async def _write(self, statements: list[Statement], records: Sequence[str]) -> None:
        """Write statements that store these records whole; if that fails, they are written
        back later (memory has changes of events that the file may not)."""
        try:
            await self._db.write(statements)
        except BaseException:
            for conversation_id in records:
                self._changed.setdefault(conversation_id, self._pass)
            raise

    def changed(self, conversation_id: str, doc: _Doc, fields: Mapping[str, str]) -> None:
        """An event about to be stored (with ``fields``) sets fields of a loaded record: in
        memory now, in the file by the next write-back."""
        doc.update(fields)
        doc.rev += 1
        self._changed.setdefault(conversation_id, self._pass)

    def next_pass(self) -> None:
        """Start the next write-back pass."""
        self._pass += 1

    async def write_back(self, passes: int = 0) -> None:
        """Write, in one batch, the records changed by events at least ``passes`` write-back
        passes ago (0: all of them)."""
        changed, last = self._changed, self._pass - passes
        ids = []
        for conversation_id, first in changed.items():  # in the order of their first change
            if first > last:
                break
            ids.append(conversation_id)
        if not ids:
            return
        for conversation_id in ids:
            del changed[conversation_id]
        docs = self.docs
        statements = [_stored_whole(cid, doc) for cid in ids if (doc := docs.get(cid)) is not None]
        with self.writing(*ids):
            await self._write(statements, ids)

    @contextlib.contextmanager
    def writing(self, *keys: str) -> Iterator[None]:
        """Keep these records and shoppers' lists in memory until the write is done."""
        for key in keys:
            self.hold(key)
        try:
            yield
        finally:
            for key in keys:
                self.release(key)

    def hold(self, key: str) -> None:
        """Keep this record or shopper's list in memory until as many ``release`` calls."""
        self._writing[key] = self._writing.get(key, 0) + 1

    def release(self, key: str) -> None:
        held = self._writing[key] - 1
        if held:
            self._writing[key] = held
        else:
            del self._writing[key]

    async def loaded(self, conversation_id: str) -> _Doc:
        """A record's fields as memory keeps them. Raises KeyError."""
        doc = await self._fields(conversation_id)
        if doc is None:
            raise KeyError(conversation_id)
        return doc

    def patch(self, conversation_id: str, doc: _Doc, fields: Mapping[str, str]) -> Statement:
        """Set fields of a loaded record in memory now; returns the statement that stores it.

        The statement writes the whole document as memory holds it now (and its report row), with
        every change of the events before it: the last one committed is the record, however many
        of its writes share a batch.
        """
        doc.update(fields)
        if fields:
            doc.rev += 1
        self._changed.pop(conversation_id, None)
        return _stored_whole(conversation_id, doc)

    async def get(self, conversation_id: str) -> dict[str, str] | None:
        doc = await self._fields(conversation_id)
        return None if doc is None else dict(doc)

    async def get_revised(self, conversation_id: str) -> tuple[dict[str, str] | None, int | None]:
        doc = await self._fields(conversation_id)
        return (None, None) if doc is None else (dict(doc), doc.rev)

    async def latest_revised(
        self, shopper_id: str
    ) -> tuple[str, dict[str, str] | None, int | None] | None:
        index = await self._shopper_index(shopper_id)
        if not index:
            return None
        conversation_id = index[-1][1]
        doc = await self._fields(conversation_id)
        return (
            (conversation_id, None, None) if doc is None else (conversation_id, dict(doc), doc.rev)
        )

    async def _fields(self, conversation_id: str) -> _Doc | None:
        doc = self.docs.get(conversation_id)
        if doc is None:
            rows = await self._db.read(
                "SELECT doc FROM conversations WHERE id = ?", (conversation_id,)
            )
            if not rows:
                return None
            doc = self.docs.setdefault(conversation_id, _Doc(_fields_of(rows[0][0])))
        return doc

    async def of_shopper(self, shopper_id: str) -> list[str]:
        return [conversation_id for _, conversation_id in await self._shopper_index(shopper_id)]

    async def move(self, conversation_id: str, from_shopper: str, to_shopper: str) -> None:
        doc = await self.loaded(conversation_id)
        old = await self._shopper_index(from_shopper)
        new = await self._shopper_index(to_shopper, adding=True)
        entry = (json.loads(doc.get("created_at", "0")), conversation_id)
        field = {"shopper_id": json.dumps(to_shopper)}
        patch = self.patch(conversation_id, doc, field)
        column = (
            "UPDATE conversations SET shopper_id = ? WHERE id = ?",
            (to_shopper, conversation_id),
        )
        with self.writing(conversation_id, from_shopper, to_shopper):
            if entry in old:
                old.remove(entry)
            bisect.insort(new, entry)
            await self._write([patch, column], [conversation_id])

    async def _shopper_index(
        self, shopper_id: str, adding: bool = False
    ) -> list[tuple[float, str]]:
        """A shopper's conversations as kept in memory; ``adding``: one is about to be added."""
        known = self._by_shopper.get(shopper_id)
        if known is None and shopper_id not in self.with_conversations:
            if not adding:
                return []  # none: nothing to keep for them
            self.with_conversations.add(shopper_id)
            return self._by_shopper.put(shopper_id, [])
        if known is None:
            rows = await self._db.read(
                "SELECT created_at, id FROM conversations WHERE shopper_id = ?"
                " ORDER BY created_at, id",
                (shopper_id,),
            )
            # Another caller may have loaded it meanwhile (and a create added to it): keep theirs.
            known = self._by_shopper.setdefault(shopper_id, [(c, i) for c, i in rows])
        return known

    async def created_between(self, since: float, until: float) -> list[dict[str, str]]:
        await self.write_back()
        rows = await self._db.read(
            "SELECT doc FROM conversations WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at",
            (since, until),
        )
        return [_fields_of(row[0]) for row in rows]

    async def scan(self, since: float, until: float) -> str:
        # One string built by SQLite from the covering index: no Python object per record.
        await self.write_back()
        rows = await self._db.read(
            "SELECT group_concat(report_row) FROM conversations INDEXED BY conversations_report"
            " WHERE created_at >= ? AND created_at < ?",
            (since, until),
        )
        return "[" + (rows[0][0] or "") + "]"

    async def scan_fields(self, since: float, until: float, names: Sequence[str]) -> str:
        if len(names) < 2 or not all(name.isidentifier() for name in names):
            return await super().scan_fields(since, until, names)
        # With two or more paths json_extract gives one JSON array: SQLite builds the whole
        # answer, no document is parsed in Python.
        paths = ", ".join(f"'$.{name}'" for name in names)
        await self.write_back()
        rows = await self._db.read(
            f"SELECT group_concat(json_extract(doc, {paths})) FROM conversations"
            " WHERE created_at >= ? AND created_at < ?",
            (since, until),
        )
        return "[" + (rows[0][0] or "") + "]"


class SQLiteLog(Log):
    """Events in one table; the tails of recently used logs (last seq, client ids) in memory."""

    def __init__(self, db: Database, records: SQLiteRecords) -> None:
        self._db = db
        self._records = records
        self._tails: LRU[str, _Tail] = LRU(_LOGS_IN_MEMORY, keep=lambda _, tail: bool(tail.pending))

    async def _tail(self, conversation_id: str) -> _Tail:
        tail = self._tails.get(conversation_id)
        if tail is not None:
            return tail
        rows = await self._db.read(
            "SELECT seq, client_id FROM events WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        )
        tail = self._tails.get(conversation_id)
        if tail is None:
            known = {c: seq for seq, c in rows if c is not None}
            tail = self._tails.put(conversation_id, _Tail(rows[-1][0] if rows else 0, known))
        return tail

    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
        expected_rev: int | None = None,
    ) -> Appended:
        records = self._records
        # Memory answers almost every call: no coroutine to resume for what it holds.
        tail = self._tails.get(conversation_id) or await self._tail(conversation_id)
        doc = None
        if fields or expected_rev is not None:
            doc = records.docs.get(conversation_id) or await records.loaded(conversation_id)
        # Nothing below awaits until the client id is pending: a retry racing this one waits.
        stored: asyncio.Future[int] | None = None
        if client_id is not None:
            if client_id in tail.pending:
                seq = await asyncio.shield(tail.pending[client_id])
                return await self._stored(conversation_id, seq)
            if client_id in tail.seq_of:
                return await self._stored(conversation_id, tail.seq_of[client_id])
        if doc is not None and expected_rev is not None and doc.rev != expected_rev:
            raise RecordChanged(dict(doc), doc.rev)
        if client_id is not None:
            stored = tail.pending[client_id] = asyncio.get_running_loop().create_future()
        tail.last_seq += 1
        seq = tail.last_seq
        text = render(seq)
        changes = None
        rev = None
        if doc is not None:
            if fields:
                records.changed(conversation_id, doc, fields)
                changes = _doc(fields)
            rev = doc.rev  # this event's, whatever another append does while this one commits
        statements: list[Statement] = [
            (_INSERT_EVENT, (conversation_id, seq, client_id, text, changes))
        ]
        records.hold(conversation_id)
        try:
            await self._db.write(statements)
        except BaseException as exc:
            # Forget what memory knew so the next append re-reads the log from disk.
            self._tails.pop(conversation_id)
            if stored is not None:
                stored.set_exception(StoreUnavailable(str(exc)))
                stored.exception()  # mark retrieved: a retry will re-read the log instead
            raise
        finally:
            records.release(conversation_id)
            if client_id is not None:
                tail.pending.pop(client_id, None)
        if stored is not None and client_id is not None:
            tail.seq_of[client_id] = seq
            stored.set_result(seq)
        return Appended(seq, text, rev=rev)

    async def _stored(self, conversation_id: str, seq: int) -> Appended:
        """The stored event at ``seq``, answering a retried client id."""
        rows = await self._db.read(
            "SELECT body FROM events WHERE conversation_id = ? AND seq = ?", (conversation_id, seq)
        )
        return Appended(seq, rows[0][0], duplicate=True)

    async def read(
        self, conversation_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[tuple[int, str]]:
        rows = await self._db.read(
            "SELECT seq, body FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq"
            " LIMIT ?",
            (conversation_id, after_seq, -1 if limit is None else limit),
        )
        return [(seq, body) for seq, body in rows]

    async def find(self, conversation_id: str, client_id: str) -> Appended | None:
        rows = await self._db.read(
            "SELECT seq, body FROM events WHERE conversation_id = ? AND client_id = ?",
            (conversation_id, client_id),
        )
        return Appended(rows[0][0], rows[0][1], duplicate=True) if rows else None

    async def read_many(self, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        logs: dict[str, list[str]] = {c: [] for c in conversation_ids}
        rows = await self._db.read(
            "SELECT conversation_id, body FROM events"
            " WHERE conversation_id IN (SELECT value FROM json_each(?))"
            " ORDER BY conversation_id, seq",
            (json.dumps(list(conversation_ids)),),
        )
        for conversation_id, body in rows:
            logs[conversation_id].append(body)
        return logs


class SQLiteAccounts(AgentAccounts):
    """Agent accounts in one table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, agent_id: str, record: str) -> None:
        upsert = "INSERT OR REPLACE INTO agents (id, record) VALUES (?, ?)"
        await self._db.write([(upsert, (agent_id, record))])

    async def get(self, agent_id: str) -> str | None:
        rows = await self._db.read("SELECT record FROM agents WHERE id = ?", (agent_id,))
        return rows[0][0] if rows else None

    async def all(self) -> list[str]:
        return [row[0] for row in await self._db.read("SELECT record FROM agents ORDER BY id")]

    async def remove(self, agent_id: str) -> bool:
        existed = await self.get(agent_id) is not None
        await self._db.write([("DELETE FROM agents WHERE id = ?", (agent_id,))])
        return existed


class SQLiteStore(Store):
    """One process: routing and the bus in memory, durable state in one SQLite file (WAL)."""

    def __init__(
        self, path: Path, files: Files | None = None, write_back_s: float = WRITE_BACK_S
    ) -> None:
        """``write_back_s``: how long a record changed by events waits to be written back."""
        self.path = path
        self.write_back_s = write_back_s
        self.db = Database(path, _SCHEMA, _migrate, bulk=(_INSERT_EVENT, _UPDATE))
        records = SQLiteRecords(self.db)
        self.memory_router = SQLiteRouter(self.db)
        super().__init__(
            SQLiteLog(self.db, records),
            records,
            self.memory_router,
            SQLiteAccounts(self.db),
            Bus(),
            files or DiskFiles(path.parent / "files"),
            config=SQLiteShopConfig(self.db),
            trays=SQLiteTrays(self.db),
            search=SQLiteSearch(self.db),
            reviews=SQLiteReviews(self.db),
            api_keys=SQLiteApiKeys(self.db),
            ledger=SQLiteLedger(self.db),
        )
        self._records = records
        self._writing_back: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the file; rebuild the queue and who holds which chat from the records."""
        await self.db.open()
        await self.memory_router.load()
        shoppers = await self.db.read("SELECT DISTINCT shopper_id FROM conversations")
        self._records.with_conversations = ShopperFilter(row[0] for row in shoppers)
        rows = await self.db.read(
            "SELECT id, doc FROM conversations"
            " WHERE json_extract(doc, '$.status') IN ('queued', 'assigned')"
            " ORDER BY json_extract(doc, '$.queued_at'), created_at"
        )
        for conversation_id, doc in rows:
            fields = _Doc(_fields_of(doc))
            self._records.docs.put(conversation_id, fields)
            agent_id = json.loads(fields.get("agent_id", "null"))
            if json.loads(fields["status"]) == "queued":
                await self.memory_router.enqueue(conversation_id)
            elif agent_id:
                self.memory_router.hold(agent_id, conversation_id)
        await super().start()
        self._writing_back = asyncio.create_task(
            self._write_back_every(self.write_back_s / WRITE_BACK_PASSES)
        )

    async def _write_back_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            records = self._records
            records.next_pass()
            try:
                await records.write_back(WRITE_BACK_PASSES)
            except StoreUnavailable as exc:  # the records wait in memory for the next one
                log.warning("writing records back failed: %s", exc)

    async def write_back(self) -> None:
        """Write every record that events changed since it was last written."""
        await self._records.write_back()

    async def close(self) -> None:
        if self._writing_back is not None:
            self._writing_back.cancel()
            await asyncio.gather(self._writing_back, return_exceptions=True)
            self._writing_back = None
            await self.write_back()
        await super().close()
        await self.db.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an older file up to date, then give records the changes of events they miss."""
    _add_columns(db)
    _migrate_reports(db)
    _replay(db)


def _add_columns(db: sqlite3.Connection) -> None:
    """Files made before events held their record changes: the columns are added, and each
    record includes every event of its log so far (it was written with each)."""
    events = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    records = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
    if "fields" in events and "seq" in records:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if "fields" not in events:
            db.execute("ALTER TABLE events ADD COLUMN fields TEXT")
        if "seq" not in records:
            db.execute("ALTER TABLE conversations ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
            db.execute(
                "UPDATE conversations SET seq = (SELECT coalesce(max(seq), 0) FROM events"
                " WHERE conversation_id = conversations.id)"
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


_BEHIND = (
    "SELECT id, doc, seq FROM conversations c WHERE EXISTS (SELECT 1 FROM events"
    " WHERE conversation_id = c.id AND seq > c.seq AND fields IS NOT NULL)"
)


def _replay(db: sqlite3.Connection) -> None:
    """Apply to each record, in order, the changes of its log's events after the record's
    ``seq`` (stored, but not written back to it before the process stopped)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for conversation_id, doc, seq in db.execute(_BEHIND).fetchall():
            fields = _fields_of(doc)
            changes = db.execute(
                "SELECT fields FROM events WHERE conversation_id = ? AND seq > ?"
                " AND fields IS NOT NULL ORDER BY seq",
                (conversation_id, seq),
            )
            for (changed,) in changes.fetchall():
                fields.update(_fields_of(changed))
            db.execute(*_stored_whole(conversation_id, fields))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _migrate_reports(db: sqlite3.Connection) -> None:
    """Bring the conversations table of an older file up to date, in one transaction.

    Files made before report_row was written by the store have no such column or a generated one
    (recomputed from the document on every update; SQLite cannot turn it into a plain column in
    place): the table is copied into one of today's shape. A file whose rows hold other
    REPORT_FIELDS (``PRAGMA user_version``) has them computed again.
    """
    if db.execute("PRAGMA user_version").fetchone()[0] == _REPORT_LAYOUT:
        db.executescript(_CONVERSATION_INDEXES)
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1]: row[6] for row in db.execute("PRAGMA table_xinfo(conversations)")}
        if columns.get("report_row") != 0:  # missing, or generated (hidden 2 or 3)
            db.execute("DROP TABLE IF EXISTS conversations_migrated")
            db.execute(_CONVERSATIONS.format(name="conversations_migrated"))
            db.execute(
                "INSERT INTO conversations_migrated"
                " (id, shopper_id, created_at, doc, report_row, seq)"
                f" SELECT id, shopper_id, created_at, doc, {_REPORT_ROW}, seq FROM conversations"
            )
            db.execute("DROP TABLE conversations")
            db.execute("ALTER TABLE conversations_migrated RENAME TO conversations")
        else:
            db.execute(f"UPDATE conversations SET report_row = {_REPORT_ROW}")
        for index in filter(str.strip, _CONVERSATION_INDEXES.split(";")):
            db.execute(index)
        db.execute(f"PRAGMA user_version = {_REPORT_LAYOUT}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _fields_of(doc: str) -> dict[str, str]:
    """A stored document as record fields (name -> JSON text)."""
    return {k: json.dumps(v) for k, v in json.loads(doc).items()}


def _doc(fields: Mapping[str, str]) -> str:
    """Fields (names are identifiers, values JSON text) as one JSON object; SQLite checks it."""
    return "{" + ",".join([f'"{name}":{value}' for name, value in fields.items()]) + "}"


def _report_row(fields: Mapping[str, str]) -> str:
    """The record's REPORT_FIELDS as one JSON array: what ``_REPORT_ROW`` reads from its document
    (here, from memory: SQLite finding 21 paths in each stored document cost the writer 12%)."""
    return "[" + ",".join([fields.get(name, "null") for name in REPORT_FIELDS]) + "]"


_CREATE = (
    "INSERT INTO conversations (id, shopper_id, created_at, doc, report_row)"
    " VALUES (?, ?, ?, json(?), ?)"
)
# A record stored whole, as memory has it: with every change of the events stored before it.
_UPDATE = (
    "UPDATE conversations SET doc = ?, report_row = ?,"
    " seq = (SELECT coalesce(max(seq), 0) FROM events WHERE conversation_id = ?) WHERE id = ?"
)
_INSERT_EVENT = (
    "INSERT INTO events (conversation_id, seq, client_id, body, fields) VALUES (?, ?, ?, ?, ?)"
)


def _stored_whole(conversation_id: str, doc: Mapping[str, str]) -> Statement:
    return (_UPDATE, (_doc(doc), _report_row(doc), conversation_id, conversation_id))
