"""Auto-pipelining: the single commands callers issue in one pass of the event loop share a round trip.

Without it every command takes a pooled connection for a whole round trip, so a thousand
sockets each sending one message queue up for 64 connections and Redis sees one command per
read. Here a command joins the batch of the current loop pass; at the end of the pass the batch is
written on one connection in one write and the replies are read back in order. Batches of later
passes take other connections while earlier ones are in flight (the pool's limit is the bound,
and waiting for a connection is backpressure). Commands from one caller stay in order, since each
awaits its reply before the next; explicit pipelines (MULTI/EXEC) and pub/sub are not batched.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError

_Call = tuple[tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class AutoPipelinedRedis(aioredis.Redis):
    """A Redis client that batches the commands of one loop pass into one round trip.

    A command's own error (a ``ResponseError`` such as NOSCRIPT) goes to its caller only; a lost
    connection retries the commands not yet answered (the connection's ``Retry``), then fails them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[_Call] = []
        self._batches: set[asyncio.Task[None]] = set()

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((args, options, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._run(batch), name="redis-batch")
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)

    async def _run(self, batch: list[_Call]) -> None:
        try:
            connection = await self.connection_pool.get_connection()
        except BaseException as exc:
            _fail(batch, exc)
            if not isinstance(exc, Exception):
                raise
            return
        answered = 0

        async def send_and_read() -> None:
            nonlocal answered
            waiting = batch[answered:]
            packed = connection.pack_commands([args for args, _, _ in waiting])
            await connection.send_packed_command(packed, check_health=False)
            for args, options, future in waiting:
                try:
                    reply = await self.parse_response(connection, args[0], **dict(options))
                except ResponseError as exc:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(reply)
                answered += 1

        async def disconnect(_error: Exception) -> None:
            await connection.disconnect()

        try:
            await connection.retry.call_with_retry(send_and_read, disconnect)
        except BaseException as exc:
            # The connection may hold replies we did not read: never hand it on as it is.
            await _disconnect_quietly(connection)
            _fail(batch[answered:], exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            await self.connection_pool.release(connection)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)
        await super().aclose(close_connection_pool)


def _fail(calls: list[_Call], exc: BaseException) -> None:
    for _, _, future in calls:
        if future.done():
            continue
        if isinstance(exc, Exception):
            future.set_exception(exc)
        else:
            future.cancel()


async def _disconnect_quietly(connection: AbstractConnection) -> None:
    with contextlib.suppress(Exception):  # already broken: the next user reconnects
        await connection.disconnect()
