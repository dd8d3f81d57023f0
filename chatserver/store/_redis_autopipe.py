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
from collections.abc import Callable
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_CHUNK = 65536

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
        if NEVER_DECODE in options:  # raw bytes (DUMP...): rare, not batched
            return await super().execute_command(*args, **options)
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
            packed = b"".join([_pack(connection, args) for args, _, _ in waiting])
            await connection.send_packed_command(packed, check_health=False)

            def on_reply(reply: Any) -> None:
                nonlocal answered
                args, options, future = batch[answered]
                answered += 1
                self._settle(args[0], options, reply, future)

            try:
                async with asyncio.timeout(connection.socket_timeout):
                    await _read_replies(
                        connection._reader,  # read as redis-py's own parser does
                        len(waiting),
                        connection.encoder.encoding
                        if connection.encoder.decode_responses
                        else None,
                        connection._parser.parse_error,
                        on_reply,
                    )
            except TimeoutError as exc:
                raise RedisTimeoutError("Timeout reading from Redis") from exc
            except OSError as exc:
                raise RedisConnectionError(f"Error while reading from Redis: {exc}") from exc

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

    def _settle(
        self, command: str, options: dict[str, Any], reply: Any, future: asyncio.Future[Any]
    ) -> None:
        """Give a caller its reply as ``Redis.parse_response`` would (errors, callbacks)."""
        if isinstance(reply, RedisConnectionError):
            raise reply  # the server is going away (LOADING...): the whole batch fails
        if future.done():
            return
        if isinstance(reply, ResponseError):
            if EMPTY_RESPONSE in options:
                future.set_result(options[EMPTY_RESPONSE])
            else:
                future.set_exception(reply)
            return
        callback = self.response_callbacks.get(command)
        if callback is None:
            future.set_result(reply)
            return
        extra = {k: v for k, v in options.items() if k not in (EMPTY_RESPONSE, "keys")}
        try:
            future.set_result(callback(reply, **extra))
        except Exception as exc:
            future.set_exception(exc)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)
        await super().aclose(close_connection_pool)


async def _read_replies(
    reader: asyncio.StreamReader,
    count: int,
    encoding: str | None,
    parse_error: Callable[[str], Exception],
    on_reply: Callable[[Any], None],
) -> None:
    """Read ``count`` replies, handing each to ``on_reply`` in order; hiredis parses every reply of
    the bytes at hand in one go (redis-py's pure-Python parser awaits once per element, and
    starts a timeout per reply). An error reply is returned as redis-py's exception for it.

    Raises redis's ConnectionError when the server closes the connection."""
    parser = hiredis.Reader(encoding=encoding) if encoding else hiredis.Reader()
    while count:
        reply = parser.gets()
        if reply is False:
            chunk = await reader.read(_CHUNK)
            if not chunk:
                raise RedisConnectionError("Connection closed by server.")
            parser.feed(chunk)
            continue
        count -= 1
        on_reply(parse_error(str(reply)) if isinstance(reply, hiredis.ReplyError) else reply)
    if parser.has_data():
        raise RedisConnectionError("protocol error: more replies than commands")


_PLAIN = frozenset((str, bytes, int, float))


def _pack(connection: AbstractConnection, args: tuple[Any, ...]) -> bytes:
    """A command in RESP, as redis-py packs it, by hiredis (ten times faster: an append's
    twenty arguments took 23 µs in redis-py); anything unusual goes through redis-py."""
    if not all(type(arg) in _PLAIN for arg in args) or " " in str(args[0]):
        return b"".join(connection.pack_command(*args))
    return hiredis.pack_command(args)


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
