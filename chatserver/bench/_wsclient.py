"""A lean WebSocket client for the load generator: callbacks on an asyncio protocol, no tasks.

One load-generator process must drive thousands of sockets on a shared 2-core machine, so each
received frame costs one callback, not a task switch as in a general client. It speaks just what
the benchmark needs (RFC 6455 text frames, ping/pong, close) and masks what it sends as the RFC
requires, with websockets' C ``apply_mask``.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - the pure-Python fallback of the same library
    from websockets.utils import apply_mask

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeFailed(Exception):
    """Raised when the server answers the upgrade request with anything but 101."""


class WsClient(asyncio.Protocol):
    """One client socket; ``on_text`` is called with every text message received."""

    def __init__(self, on_text: Callable[[str], None]) -> None:
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.open = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._upgraded = False
        self._fragments: list[bytes] = []
        self._mask = os.urandom(4)

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self._buffer[: self._buffer.find(b"\r\n")])
            del self._buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self.open.set_exception(HandshakeFailed(status.decode(errors="replace")))
                self.abort()
                return
            self._upgraded = True
            self.open.set_result(None)
        self._parse()

    # --- frames ---------------------------------------------------------------------------------

    def _parse(self) -> None:
        buf = self._buffer
        pos, size = 0, len(buf)
        while size - pos >= 2:
            first, length = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(first & 0x80, first & 0x0F, payload)
        del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload, self._fragments = b"".join([*self._fragments, payload]), []
            self.on_text(payload.decode())
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self._write(OP_CLOSE, payload[:2])
            self.abort()

    def _write(self, opcode: int, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        size = len(data)
        if size < 126:
            head = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
        transport.write(head + self._mask + apply_mask(data, self._mask))

    def send_text(self, text: str) -> None:
        self._write(OP_TEXT, text.encode())

    def close(self) -> None:
        """Start the closing handshake (1000); the server closes the TCP connection."""
        self._write(OP_CLOSE, (1000).to_bytes(2, "big"))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(
    host: str,
    port: int,
    path: str,
    on_text: Callable[[str], None],
    origin: str | None = None,
    timeout: float = 10.0,
) -> WsClient:
    """Open a socket and finish the upgrade. Raises HandshakeFailed, OSError or TimeoutError."""
    loop = asyncio.get_running_loop()
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    async with asyncio.timeout(timeout):
        _, client = await loop.create_connection(lambda: WsClient(on_text), host, port)
        assert client.transport is not None
        client.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await client.open
    return client


async def post_json(
    host: str, port: int, path: str, body: bytes, timeout: float = 30.0
) -> tuple[int, bytes]:
    """A one-shot HTTP/1.1 POST; returns (status, body)."""
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        response = await reader.read()
        writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), payload
