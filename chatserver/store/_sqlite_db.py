"""One SQLite file (WAL) with one writer thread that commits whatever has queued up in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from chatserver.store.ports import StoreUnavailable

Statement = tuple[str, Sequence[Any]]
Migration = Callable[[sqlite3.Connection], None]
_Request = tuple[list[Statement], list[asyncio.Future[None]]]

_WORD = re.compile(r"\w+")
_ANY = frozenset({"*"})


# A batch's statements that have a bulk form go to SQLite as one INSERT into this view: one row per
# statement, in their order, each run by its form's INSTEAD OF trigger.
_BULK_VIEW = "CREATE TEMP VIEW bulk_rows (form, row) AS SELECT 0, '[]' WHERE 0"
_BULK_TRIGGER = (
    "CREATE TEMP TRIGGER bulk_{form} INSTEAD OF INSERT ON bulk_rows WHEN NEW.form = {form}"
    " BEGIN {sql}; END"
)
_BULK_INSERT = (
    "INSERT INTO bulk_rows (form, row)"
    " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)"
)
SWITCH_INTERVAL_S = 0.0005
"""Measured against 0.2 and 1 ms under the closed loop: no difference beyond the noise."""
_BULK = "bulk"  # the key of a group of statements with bulk forms


class Database:
    """A SQLite file: group-committed writes on a writer thread, reads on their own thread.

    The event loop only queues statements (a loop pass's writes go to the thread together, once
    the pass has run its ready callbacks); the writer thread takes everything queued since its
    last commit, runs it in one transaction (``executemany`` per group of identical statements,
    the ``bulk`` ones in one step), commits (``synchronous=FULL``) and then settles that batch's
    futures with one callback.

    Args:
        path: the database file.
        schema: SQL run once by the writer connection when it opens.
        migrate: run next on the writer connection (brings an older file up to date).
        bulk: the SQL of the hot statements (``?`` parameters; their values go to SQLite as
            JSON, so a dict arrives as an object's text): in a batch they all run in one step.
            sqlite3 lets go of the GIL around every step, and the thread then waits for the busy
            event loop to hand it back (up to the switch interval): a batch of appends costs one
            wait, not one per row.
    """

    def __init__(
        self, path: Path, schema: str, migrate: Migration | None = None, bulk: Sequence[str] = ()
    ) -> None:
        self.path = path
        self._schema = schema
        self._migrate = migrate
        self._bulk = {sql: form for form, sql in enumerate(bulk)}
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._read_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-read")
        self._read_db: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # This loop pass's writes, handed to the writer thread together once the pass has run
        # its ready callbacks: one wake-up of the thread (one GIL handoff) per pass, not per write.
        self._pending: list[Statement] = []
        self._waiters: list[asyncio.Future[None]] = []

    async def open(self) -> None:
        # The SQLite threads take the GIL back from the busy event loop after each step: a thread
        # that asks for it waits up to the switch interval (5 ms by default; 0.5 ms keeps commits
        # prompt).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        loop = self._loop = asyncio.get_running_loop()
        ready: ThreadFuture[sqlite3.Connection] = ThreadFuture()
        self._writer = threading.Thread(
            target=self._write_thread, args=(loop, ready), name="sqlite-write", daemon=True
        )
        self._writer.start()
        try:
            await asyncio.wrap_future(ready)
        except BaseException:
            await asyncio.to_thread(self._writer.join)
            self._writer = None
            raise
        self._read_db = await loop.run_in_executor(self._read_pool, self._connect, False)

    async def close(self) -> None:
        if self._writer is not None:
            await self.write([])
            self._queue.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._read_db is not None:
            await asyncio.get_running_loop().run_in_executor(self._read_pool, self._read_db.close)
            self._read_db = None
        self._read_pool.shutdown(wait=True)

    def _connect(self, writer: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        if writer:
            # FULL: a committed batch survives a power cut, not only a killed process.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(self._schema)
            if self._migrate is not None:
                self._migrate(db)
            db.execute(_BULK_VIEW)
            for sql, form in self._bulk.items():
                db.execute(_BULK_TRIGGER.format(form=form, sql=_per_row(sql)))
        return db

    async def write(self, statements: list[Statement]) -> None:
        """Queue statements for the next batch; return once that batch is committed."""
        if self._writer is None:
            raise StoreUnavailable("the SQLite store is not started")
        # The loop kept from open(): asyncio.get_running_loop() costs a getpid() call on 3.11.
        loop = self._loop
        assert loop is not None
        done: asyncio.Future[None] = loop.create_future()
        if not self._waiters:
            loop.call_soon(self._flush)
        self._pending.extend(statements)
        self._waiters.append(done)
        await done

    def _flush(self) -> None:
        """Hand this loop pass's writes to the writer thread as one request."""
        statements, self._pending = self._pending, []
        waiters, self._waiters = self._waiters, []
        self._queue.put((statements, waiters))

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._read_db is None:
            raise StoreUnavailable("the SQLite store is not started")
        db = self._read_db
        return await asyncio.get_running_loop().run_in_executor(
            self._read_pool, lambda: db.execute(sql, params).fetchall()
        )

    def _write_thread(
        self, loop: asyncio.AbstractEventLoop, ready: ThreadFuture[sqlite3.Connection]
    ) -> None:
        try:
            db = self._connect(True)
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(db)
        batches = _Batches(_table_names(db), self._bulk)
        try:
            while True:
                first = self._queue.get()
                batch = [first]
                stop = first is None
                while not stop:
                    try:
                        request = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    batch.append(request)
                    stop = request is None
                requests = [request for request in batch if request is not None]
                if requests:
                    _settle_from_thread(loop, requests, _commit(db, batches, requests))
                if stop:
                    return
        finally:
            db.close()


def _commit(
    db: sqlite3.Connection, batches: _Batches, requests: list[_Request]
) -> Exception | None:
    """Run one batch in one transaction; the error that undid it, or None once committed."""
    try:
        groups = batches.plan(requests)
        if len(groups) == 1 and (groups[0].sql is _BULK or len(groups[0].rows) == 1):
            # One statement is a transaction of its own: no BEGIN and COMMIT steps to wait for.
            _run(db, groups[0])
        elif groups:
            db.execute("BEGIN IMMEDIATE")
            for group in groups:
                _run(db, group)
            db.execute("COMMIT")
    except Exception as exc:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        return exc
    return None


def _run(db: sqlite3.Connection, group: _Group) -> None:
    rows = group.rows
    if group.sql is not _BULK:
        if len(rows) == 1:
            db.execute(group.sql, rows[0])
        else:
            db.executemany(group.sql, rows)
    else:
        db.execute(_BULK_INSERT, (orjson.dumps(rows).decode(),))


def _per_row(sql: str) -> str:
    """A statement's SQL run by the bulk trigger: its parameters read from the row's array."""
    parts = sql.split("'")  # odd parts are quoted text, where ``?`` is no parameter
    count = 0
    for at in range(0, len(parts), 2):
        pieces = parts[at].split("?")
        params = [f"json_extract(NEW.row, '$[{count + i}]')" for i in range(len(pieces) - 1)]
        count += len(params)
        parts[at] = pieces[0] + "".join(
            p + piece for p, piece in zip(params, pieces[1:], strict=True)
        )
    return "'".join(parts)


def _settle_from_thread(
    loop: asyncio.AbstractEventLoop, requests: list[_Request], error: Exception | None
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
        loop.call_soon_threadsafe(_settle, requests, error)


def _settle(requests: list[_Request], error: Exception | None) -> None:
    """On the loop: complete every future of a committed (or failed) batch."""
    if error is None:
        for _, waiters in requests:
            for done in waiters:
                if not done.done():
                    done.set_result(None)
        return
    failure = StoreUnavailable(f"storing failed: {error}")
    for _, waiters in requests:
        for done in waiters:
            if not done.done():
                done.set_exception(failure)


@dataclass
class _Group:
    """Statements with the same SQL, run by one ``executemany`` in their order; or statements
    with bulk forms (``sql`` is ``_BULK``), rows ``(form, params)``, run in one step."""

    sql: str
    tables: frozenset[str]
    rows: list[Sequence[Any]] = field(default_factory=list)


class _Batches:
    """Groups a batch's statements by SQL text without changing what the batch does.

    A statement joins the last group with its SQL (or, with a bulk form, the last group of those)
    when every group opened after that one names none of the tables it names: it only moves past
    statements on other tables. Statements on the same table (two updates of one record) stay in
    their order.
    """

    def __init__(self, tables: frozenset[str], bulk: Mapping[str, int]) -> None:
        self._known = tables
        self._bulk = bulk
        self._tables_of: dict[str, frozenset[str]] = {}

    def plan(self, requests: list[_Request]) -> list[_Group]:
        groups: list[_Group] = []
        last: dict[str, int] = {}
        for statements, _ in requests:
            for sql, params in statements:
                form = self._bulk.get(sql)
                key = sql if form is None else _BULK
                row: Sequence[Any] = params if form is None else (form, params)
                index = last.get(key)
                tables = self._tables(sql)
                if index is not None and not any(
                    _overlap(tables, later.tables) for later in groups[index + 1 :]
                ):
                    group = groups[index]
                    group.rows.append(row)
                    group.tables = group.tables | tables
                    continue
                last[key] = len(groups)
                groups.append(_Group(key, tables, [row]))
        return groups

    def _tables(self, sql: str) -> frozenset[str]:
        tables = self._tables_of.get(sql)
        if tables is None:
            names = {word.lower() for word in _WORD.findall(sql)}
            # Naming no table the schema knows, a statement moves past nothing, nothing past it.
            tables = frozenset(names & self._known) or _ANY
            if len(self._tables_of) < 10_000:
                self._tables_of[sql] = tables
        return tables


def _overlap(tables: frozenset[str], others: frozenset[str]) -> bool:
    return "*" in tables or "*" in others or not tables.isdisjoint(others)


def _table_names(db: sqlite3.Connection) -> frozenset[str]:
    rows = db.execute("SELECT lower(name) FROM sqlite_master WHERE type = 'table'").fetchall()
    return frozenset(row[0] for row in rows)
