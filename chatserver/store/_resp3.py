"""A RESP3 reply reader for batches: parses every reply of a batch from the bytes at hand, in one go.

redis-py's pure-Python parser awaits once per element (a record of 40 fields is 80 awaits) and
starts a timeout per reply; for a batch of replies that is most of the client's CPU. Here the
bytes are read in chunks and parsed synchronously; an incomplete reply is parsed again once more
bytes came. Types as redis-py's RESP3 parser gives them: maps as dicts, sets as lists, errors as
``ResponseError`` instances (returned, not raised, as they belong to one command).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

Decode = Callable[[bytes], Any]
ParseError = Callable[[str], Exception]

_CHUNK = 65536


class Incomplete(Exception):
    """More bytes are needed for the reply being parsed."""


def parse(buf: bytes, pos: int, decode: Decode, error: ParseError) -> tuple[Any, int]:
    """The reply starting at ``pos`` and the position after it. Raises Incomplete."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    kind, line, pos = buf[pos : pos + 1], buf[pos + 1 : end], end + 2
    if kind == b"$" or kind == b"=" or kind == b"!":
        size = int(line)
        if size < 0:
            return None, pos
        stop = pos + size
        if len(buf) < stop + 2:
            raise Incomplete
        data = buf[pos:stop]
        if kind == b"!":
            return error(data.decode("utf-8", errors="replace")), stop + 2
        return decode(data[4:] if kind == b"=" else data), stop + 2
    if kind == b"*" or kind == b"~" or kind == b">":
        items = []
        for _ in range(int(line)):
            item, pos = parse(buf, pos, decode, error)
            items.append(item)
        return items, pos
    if kind == b"%":
        mapping = {}
        for _ in range(int(line)):
            key, pos = parse(buf, pos, decode, error)
            mapping[key], pos = parse(buf, pos, decode, error)
        return mapping, pos
    if kind == b"+":
        return decode(line), pos
    if kind == b":" or kind == b"(":
        return int(line), pos
    if kind == b"_":
        return None, pos
    if kind == b"-":
        return error(line.decode("utf-8", errors="replace")), pos
    if kind == b",":
        return float(line), pos
    if kind == b"#":
        return line == b"t", pos
    raise RedisConnectionError(
        f"protocol error: unexpected reply {buf[pos - 2 - len(line) - 1 : pos]!r}"
    )


async def read_replies(
    reader: Any, count: int, decode: Decode, error: ParseError, on_reply: Callable[[Any], None]
) -> None:
    """Read ``count`` replies from an asyncio StreamReader, handing each to ``on_reply`` in order.

    Raises redis's ConnectionError when the server closes the connection."""
    buf = b""
    pos = 0
    while count:
        try:
            reply, after = parse(buf, pos, decode, error)
        except Incomplete:
            chunk = await reader.read(_CHUNK)
            if not chunk:
                raise RedisConnectionError("Connection closed by server.") from None
            buf = buf[pos:] + chunk
            pos = 0
            continue
        if isinstance(reply, list) and buf[pos : pos + 1] == b">":
            pos = after  # a push message (client tracking): not a reply to us
            continue
        pos = after
        count -= 1
        on_reply(reply)
    if pos != len(buf):
        raise RedisConnectionError("protocol error: more replies than commands")
