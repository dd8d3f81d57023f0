"""Several text frames in one transport write, on uvicorn's sans-I/O websockets protocol.

ASGI hands a server one message per ``send``, and uvicorn writes each with its own
``transport.write`` (a system call). This module is the one place that reaches behind the
ASGI ``send`` (a bound method of uvicorn's ``WebSocketsSansIOProtocol``): it frames a batch of
texts with that protocol's websockets ``ServerProtocol`` and writes them at once, checking what
``send`` checks first. It tells whether the client has sent more than the app has received
yet, and drops what uvicorn keeps per connection but no longer needs once the socket is
accepted. ``tests/test_wire.py`` fails if uvicorn's protocol changes underneath.
"""

from __future__ import annotations

import fcntl
import sys
import termios
from collections.abc import Callable, Sequence
from typing import Any

from websockets.exceptions import InvalidState

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn without websockets: every send goes through ASGI
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


class Gone(Exception):
    """The client is gone, or the socket is closing: nothing more can be written."""


def protocol_of(send: Callable[..., Any]) -> Any | None:
    """uvicorn's sans-I/O protocol behind an ASGI ``send``, or None (another server)."""
    protocol = getattr(send, "__self__", None)
    if (
        WebSocketsSansIOProtocol is None
        or type(protocol) is not WebSocketsSansIOProtocol
        or getattr(send, "__func__", None) is not WebSocketsSansIOProtocol.send
    ):
        return None
    return protocol


def write(protocol: Any, texts: Sequence[str]) -> bool:
    """Write ``texts`` as text frames, in order, in one ``transport.write``.

    False (nothing written) while the transport is paused: its buffer is full, so the frames
    wait, through the ASGI ``send``. Raises ``Gone`` when the client is gone.
    """
    if not protocol.writable.is_set():
        return False
    if protocol.disconnected or protocol.close_sent or not protocol.handshake_complete:
        raise Gone
    conn = protocol.conn
    try:
        for text in texts:
            conn.send_text(text.encode())
    except InvalidState as exc:
        raise Gone from exc
    protocol.transport.write(b"".join(conn.data_to_send()))
    return True


_INT = bytes(4)


def unread(protocol: Any) -> bool:
    """Whether the client has sent more than the frames the app has received: frames uvicorn
    has queued, or bytes it has not read (it stops reading while a frame waits for the app)."""
    if not protocol.queue.empty():
        return True
    sock = protocol.transport.get_extra_info("socket")
    if sock is None:
        return True
    try:
        pending = fcntl.ioctl(sock.fileno(), termios.FIONREAD, _INT)
    except OSError:
        return True  # closing: nothing is worth waiting for
    return int.from_bytes(pending, sys.byteorder) > 0


def trim(protocol: Any) -> None:
    """Drop what uvicorn keeps of an accepted socket's handshake: the request and response (with
    their headers) and the scope's headers. Call once the headers have been read."""
    if not protocol.handshake_complete:
        return
    for message in (protocol.request, protocol.response):
        if message is not None:  # websockets' parser keeps the request as long as the socket
            message.headers.clear()
    protocol.request = protocol.response = None
    protocol.scope["headers"] = ()
