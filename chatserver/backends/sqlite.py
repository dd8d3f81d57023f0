"""The embedded backend: state in memory, every event stored in SQLite (WAL) by group commit."""

from __future__ import annotations

import asyncio
import bisect
import json
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatserver.backends._router import MemoryRouter
from chatserver.backends.base import (
    REPORT_FIELDS,
    Appended,
    Backend,
    BackendUnavailable,
    Claim,
    Listener,
    Presence,
    Render,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    client_id TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_client_id
    ON events (conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    shopper_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    doc TEXT NOT NULL,
    report_row TEXT GENERATED ALWAYS AS ({report_row}) STORED
);
CREATE INDEX IF NOT EXISTS conversations_shopper ON conversations (shopper_id, created_at);
CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at);
CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""

# Reports read REPORT_FIELDS of up to 100k records at once: SQLite keeps them as a JSON array in a
# column it computes on every write, so a report never parses whole documents.
_REPORT_ROW = "json_extract(doc, {})".format(", ".join(f"'$.{name}'" for name in REPORT_FIELDS))
_SCHEMA = _SCHEMA.replace("{report_row}", _REPORT_ROW)
_REPORT_INDEX = (
    "CREATE INDEX IF NOT EXISTS conversations_report ON conversations (created_at, report_row)"
)

Statement = tuple[str, Sequence[Any]]


_LOGS_IN_MEMORY = 20_000


@dataclass
class _Log:
    """What memory knows of one conversation's log: its last seq and the client ids in it."""

    last_seq: int
    seq_of: dict[str, int] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[int]] = field(default_factory=dict)


class SQLiteBackend(Backend):
    """One process: routing and fan-out in memory, durable state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._router = MemoryRouter()
        self._logs: OrderedDict[str, _Log] = OrderedDict()
        self._docs: dict[str, dict[str, str]] = {}
        # Each shopper's conversations as (created_at, id), sorted like the table's index; loaded
        # once, then kept in step by create_conversation: no read per shopper message.
        self._by_shopper: dict[str, list[tuple[float, str]]] = {}
        self._channels: set[str] = set()
        self._listener: Listener | None = None
        self._pending: list[tuple[list[Statement], asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self._read_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-read")
        self._write_db: sqlite3.Connection | None = None
        self._read_db: sqlite3.Connection | None = None
        self._has_report_row = False

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        # The event loop and the SQLite threads hand the GIL to each other several times per
        # batch; a thread that asks for it waits up to the switch interval while the loop is busy.
        # 5 ms (CPython's default) made group commits the bottleneck under load; 0.5 ms doubled
        # the throughput of ``chatserver bench`` (closed loop, py-spy showed the waits).
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._write_db = await loop.run_in_executor(self._write_pool, self._connect, True)
        self._read_db = await loop.run_in_executor(self._read_pool, self._connect, False)
        self._writer_task = asyncio.create_task(self._write_loop(), name="sqlite-group-commit")
        # A file made before the report_row column, or before REPORT_FIELDS last changed, has no
        # column or one with other fields; SQLite cannot change a stored column's expression in
        # place, so such a file computes the rows on the fly (slower) rather than being rebuilt.
        schema = await self._read(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'conversations'", ()
        )
        self._has_report_row = _REPORT_ROW in schema[0][0]
        if self._has_report_row:
            # Covering: a report reads its rows in created_at order without touching the table.
            await self._write([(_REPORT_INDEX, ())])
        rows = await self._read(
            "SELECT id, doc FROM conversations"
            " WHERE json_extract(doc, '$.status') IN ('queued', 'assigned')"
            " ORDER BY json_extract(doc, '$.queued_at'), created_at",
            (),
        )
        for conversation_id, doc in rows:
            fields = _fields_of(doc)
            self._docs[conversation_id] = fields
            agent_id = json.loads(fields.get("agent_id", "null"))
            if json.loads(fields["status"]) == "queued":
                self._router.enqueue(conversation_id)
            elif agent_id:
                self._router.hold(agent_id, conversation_id)

    async def close(self) -> None:
        if self._writer_task is not None:
            await self._flush()
            self._writer_task.cancel()
            await asyncio.gather(self._writer_task, return_exceptions=True)
            self._writer_task = None
        loop = asyncio.get_running_loop()
        for pool, db in ((self._write_pool, self._write_db), (self._read_pool, self._read_db)):
            if db is not None:
                await loop.run_in_executor(pool, db.close)
            pool.shutdown(wait=True)
        self._write_db = self._read_db = None

    def _connect(self, writer: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        if writer:
            # FULL: a committed batch survives a power cut, not only a killed process.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        return db

    # --- group commit ---------------------------------------------------------------------

    async def _write(self, statements: list[Statement]) -> None:
        """Queue statements for the next batch; return once that batch is committed."""
        if self._writer_task is None:
            raise BackendUnavailable("the SQLite backend is not started")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((statements, done))
        self._wakeup.set()
        await done

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                await self._commit(loop, batch)
            except Exception as exc:
                error = BackendUnavailable(f"storing failed: {exc}")
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _commit(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[list[Statement], asyncio.Future[None]]],
    ) -> None:
        """Store one batch in one transaction.

        COMMIT (the fsync), and taking the write lock when another process holds it, run on the
        writer thread; the statements themselves, CPU work on pages in memory, run here. On
        the writer thread every statement handed the GIL to and from the busy event loop (sqlite3
        releases it around each step) and waited up to the switch interval (5 ms) each time: under
        load a batch of a hundred statements took most of a second (py-spy, ``chatserver bench``).
        """
        assert self._write_db is not None
        db = self._write_db
        if not _begin_at_once(db):
            await loop.run_in_executor(self._write_pool, db.execute, "BEGIN IMMEDIATE")
        try:
            for statements, _ in batch:
                for sql, params in statements:
                    db.execute(sql, params)
            await loop.run_in_executor(self._write_pool, db.execute, "COMMIT")
        except Exception:
            if db.in_transaction:
                await loop.run_in_executor(self._write_pool, db.execute, "ROLLBACK")
            raise

    async def _flush(self) -> None:
        await self._write([])

    async def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._read_db is None:
            raise BackendUnavailable("the SQLite backend is not started")
        db = self._read_db
        return await asyncio.get_running_loop().run_in_executor(
            self._read_pool, lambda: db.execute(sql, params).fetchall()
        )

    # --- conversation log -------------------------------------------------------------------

    async def _log(self, conversation_id: str) -> _Log:
        log = self._logs.get(conversation_id)
        if log is not None:
            self._logs.move_to_end(conversation_id)
            return log
        rows = await self._read(
            "SELECT seq, client_id FROM events WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        )
        log = self._logs.get(conversation_id)
        if log is None:
            log = _Log(rows[-1][0] if rows else 0, {c: seq for seq, c in rows if c is not None})
            self._logs[conversation_id] = log
            self._forget_idle_logs()
        return log

    def _forget_idle_logs(self) -> None:
        """Keep memory bounded: drop the least recently used logs with nothing in flight."""
        excess = len(self._logs) - _LOGS_IN_MEMORY
        for conversation_id in list(self._logs)[: max(0, excess) * 2]:
            if excess <= 0:
                break
            if not self._logs[conversation_id].pending:
                del self._logs[conversation_id]
                excess -= 1

    async def append(
        self,
        conversation_id: str,
        render: Render,
        client_id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> Appended:
        log = await self._log(conversation_id)
        doc = await self._fields(conversation_id) if fields else None
        if fields and doc is None:
            raise KeyError(conversation_id)
        if client_id is not None:
            if client_id in log.pending:
                return await self._stored(
                    conversation_id, await asyncio.shield(log.pending[client_id])
                )
            if client_id in log.seq_of:
                return await self._stored(conversation_id, log.seq_of[client_id])
        log.last_seq += 1
        seq = log.last_seq
        text = render(seq)
        stored: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if client_id is not None:
            log.pending[client_id] = stored
        statements: list[Statement] = [
            (
                "INSERT INTO events (conversation_id, seq, client_id, body) VALUES (?, ?, ?, ?)",
                (conversation_id, seq, client_id, text),
            )
        ]
        if fields and doc is not None:
            doc.update(fields)
            statements.append(self._patch(conversation_id, fields))
        try:
            await self._write(statements)
        except BaseException as exc:
            # Forget what memory knew so the next append re-reads the log from disk.
            self._logs.pop(conversation_id, None)
            stored.set_exception(BackendUnavailable(str(exc)))
            stored.exception()  # mark retrieved: a retry will re-read the log instead
            raise
        finally:
            if client_id is not None:
                log.pending.pop(client_id, None)
        if client_id is not None:
            log.seq_of[client_id] = seq
        stored.set_result(seq)
        return Appended(seq, text)

    async def _stored(self, conversation_id: str, seq: int) -> Appended:
        """The stored event at ``seq``, answering a retried client id."""
        rows = await self._read(
            "SELECT body FROM events WHERE conversation_id = ? AND seq = ?", (conversation_id, seq)
        )
        return Appended(seq, rows[0][0], duplicate=True)

    async def read_log(self, conversation_id: str, after_seq: int = 0) -> list[tuple[int, str]]:
        rows = await self._read(
            "SELECT seq, body FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        )
        return [(seq, body) for seq, body in rows]

    # --- conversation records --------------------------------------------------------------

    async def create_conversation(
        self, conversation_id: str, shopper_id: str, fields: Mapping[str, str]
    ) -> None:
        created_at = json.loads(fields.get("created_at", "0"))
        bisect.insort(await self._shopper_index(shopper_id), (created_at, conversation_id))
        self._docs[conversation_id] = dict(fields)
        await self._write(
            [
                (
                    "INSERT INTO conversations (id, shopper_id, created_at, doc) VALUES (?, ?, ?, ?)",
                    (conversation_id, shopper_id, created_at, _doc(fields)),
                )
            ]
        )

    async def update_conversation(self, conversation_id: str, fields: Mapping[str, str]) -> None:
        doc = await self._fields(conversation_id)
        if doc is None:
            raise KeyError(conversation_id)
        doc.update(fields)
        await self._write([self._patch(conversation_id, fields)])

    @staticmethod
    def _patch(conversation_id: str, fields: Mapping[str, str]) -> Statement:
        """Set fields in a record's document; SQLite parses each value once, Python none."""
        paths = ", ".join("?, json(?)" for _ in fields)
        params = [item for name, value in fields.items() for item in (f"$.{name}", value)]
        return (
            f"UPDATE conversations SET doc = json_set(doc, {paths}) WHERE id = ?",
            (*params, conversation_id),
        )

    async def get_conversation(self, conversation_id: str) -> dict[str, str] | None:
        doc = await self._fields(conversation_id)
        return None if doc is None else dict(doc)

    async def _fields(self, conversation_id: str) -> dict[str, str] | None:
        doc = self._docs.get(conversation_id)
        if doc is None:
            rows = await self._read(
                "SELECT doc FROM conversations WHERE id = ?", (conversation_id,)
            )
            if not rows:
                return None
            loaded = _fields_of(rows[0][0])
            doc = self._docs.setdefault(conversation_id, loaded)
        return doc

    async def shopper_conversations(self, shopper_id: str) -> list[str]:
        return [conversation_id for _, conversation_id in await self._shopper_index(shopper_id)]

    async def _shopper_index(self, shopper_id: str) -> list[tuple[float, str]]:
        known = self._by_shopper.get(shopper_id)
        if known is None:
            rows = await self._read(
                "SELECT created_at, id FROM conversations WHERE shopper_id = ? ORDER BY created_at, id",
                (shopper_id,),
            )
            # Another caller may have loaded it meanwhile (and a create added to it): keep theirs.
            known = self._by_shopper.setdefault(shopper_id, [(c, i) for c, i in rows])
        return known

    async def list_conversations(self, since: float, until: float) -> list[dict[str, str]]:
        rows = await self._read(
            "SELECT doc FROM conversations WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at",
            (since, until),
        )
        return [_fields_of(row[0]) for row in rows]

    async def scan_conversations(self, since: float, until: float) -> str:
        # A file without an up-to-date report_row column computes the same array on the fly.
        # One string built by SQLite: no Python object per record.
        source = (
            "report_row) FROM conversations INDEXED BY conversations_report"
            if self._has_report_row
            else f"{_REPORT_ROW}) FROM conversations"
        )
        rows = await self._read(
            f"SELECT group_concat({source} WHERE created_at >= ? AND created_at < ?",
            (since, until),
        )
        return "[" + (rows[0][0] or "") + "]"

    async def read_logs(self, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        logs: dict[str, list[str]] = {c: [] for c in conversation_ids}
        rows = await self._read(
            "SELECT conversation_id, body FROM events"
            " WHERE conversation_id IN (SELECT value FROM json_each(?))"
            " ORDER BY conversation_id, seq",
            (json.dumps(list(conversation_ids)),),
        )
        for conversation_id, body in rows:
            logs[conversation_id].append(body)
        return logs

    # --- queue and routing -------------------------------------------------------------------

    async def enqueue(self, conversation_id: str, at_head: bool = False) -> None:
        self._router.enqueue(conversation_id, at_head)

    async def dequeue(self, conversation_id: str) -> bool:
        return self._router.dequeue(conversation_id)

    async def queue(self) -> list[str]:
        return self._router.queue()

    async def set_presence(self, agent_id: str, status: str, capacity: int, now: float) -> Presence:
        return self._router.set_presence(agent_id, status, capacity, now)

    async def presence(self) -> list[Presence]:
        return self._router.presence()

    async def claim_next(self, now: float) -> Claim | None:
        return self._router.claim_next(now)

    async def assign(self, conversation_id: str, agent_id: str, now: float) -> bool:
        return self._router.assign(conversation_id, agent_id, now)

    async def release(self, agent_id: str, conversation_id: str, now: float) -> None:
        self._router.release(agent_id, conversation_id, now)

    async def agent_chats(self) -> dict[str, list[str]]:
        return self._router.agent_chats()

    # --- fan-out ---------------------------------------------------------------------------

    def set_listener(self, listener: Listener) -> None:
        self._listener = listener

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, text: str, seq: int | None = None) -> None:
        if self._listener is not None and channel in self._channels:
            self._listener(channel, seq, text)

    # --- agent accounts ----------------------------------------------------------------------

    async def put_agent(self, agent_id: str, record: str) -> None:
        await self._write(
            [("INSERT OR REPLACE INTO agents (id, record) VALUES (?, ?)", (agent_id, record))]
        )

    async def get_agent(self, agent_id: str) -> str | None:
        rows = await self._read("SELECT record FROM agents WHERE id = ?", (agent_id,))
        return rows[0][0] if rows else None

    async def list_agents(self) -> list[str]:
        return [row[0] for row in await self._read("SELECT record FROM agents ORDER BY id", ())]

    async def remove_agent(self, agent_id: str) -> bool:
        existed = await self.get_agent(agent_id) is not None
        await self._write([("DELETE FROM agents WHERE id = ?", (agent_id,))])
        return existed


def _begin_at_once(db: sqlite3.Connection) -> bool:
    """Take the write lock if no other process holds it, without waiting; True if taken."""
    db.execute("PRAGMA busy_timeout=0")
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    finally:
        db.execute("PRAGMA busy_timeout=30000")
    return True


def _fields_of(doc: str) -> dict[str, str]:
    """A stored document as record fields (name -> JSON text)."""
    return {k: json.dumps(v) for k, v in json.loads(doc).items()}


def _doc(fields: Mapping[str, str]) -> str:
    """Fields (each JSON text) as one JSON object."""
    return json.dumps({k: json.loads(v) for k, v in fields.items()})
