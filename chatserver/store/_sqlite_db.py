"""One SQLite file (WAL) with one writer that commits whatever has queued up in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chatserver.store.ports import StoreUnavailable

Statement = tuple[str, Sequence[Any]]


class Database:
    """A SQLite file: group-committed writes, reads on their own connection and thread.

    Args:
        path: the database file.
        schema: SQL run once by the writer connection when it opens.
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self._schema = schema
        self._pending: list[tuple[list[Statement], asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self._read_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-read")
        self._write_db: sqlite3.Connection | None = None
        self._read_db: sqlite3.Connection | None = None

    async def open(self) -> None:
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

    async def close(self) -> None:
        if self._writer_task is not None:
            await self.write([])
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
            db.executescript(self._schema)
        return db

    async def write(self, statements: list[Statement]) -> None:
        """Queue statements for the next batch; return once that batch is committed."""
        if self._writer_task is None:
            raise StoreUnavailable("the SQLite store is not started")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((statements, done))
        self._wakeup.set()
        await done

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._read_db is None:
            raise StoreUnavailable("the SQLite store is not started")
        db = self._read_db
        return await asyncio.get_running_loop().run_in_executor(
            self._read_pool, lambda: db.execute(sql, params).fetchall()
        )

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
                error = StoreUnavailable(f"storing failed: {exc}")
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
