"""Frames a socket gets in one pass of the event loop leave in one write, through uvicorn's
sans-I/O protocol (``web/wire.py``): these fail if uvicorn changes what that relies on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chatserver.core.sessions import Session
from chatserver.web import wire
from chatserver.web.connection import SocketOutbox
from tests.conftest import Server


class _CountedWrites:
    """The socket's own transport, counting its writes."""

    def __init__(self, transport: Any) -> None:
        self.transport, self.writes = transport, 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def _only_shopper(server: Server) -> tuple[Session, Any]:
    (shopper_id,) = server.hub.fanout.shopper_ids()
    (session,) = server.hub.fanout.shopper_sessions(shopper_id)
    assert isinstance(session.outbox, SocketOutbox)
    return session, session.outbox.protocol


async def test_frames_sent_in_one_pass_leave_in_one_write_in_order(server: Server) -> None:
    shopper = await server.shopper()
    await shopper.expect("availability")
    session, protocol = await _only_shopper(server)
    assert isinstance(protocol, WebSocketsSansIOProtocol)
    for name in ("writable", "disconnected", "close_sent", "handshake_complete", "conn", "queue"):
        assert hasattr(protocol, name), f"uvicorn's protocol has no {name} any more"
    counted = _CountedWrites(protocol.transport)
    protocol.transport = counted
    try:
        for n in range(3):
            session.send(json.dumps({"type": "notice", "n": n}))
        frames = [json.loads(await asyncio.wait_for(shopper.ws.recv(), 5)) for _ in range(3)]
        assert [frame["n"] for frame in frames] == [0, 1, 2]
        assert counted.writes == 1

        session.send(json.dumps({"type": "notice", "n": 3}))  # alone: out with this pass
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert counted.writes == 2
        assert json.loads(await asyncio.wait_for(shopper.ws.recv(), 5))["n"] == 3
    finally:
        protocol.transport = counted.transport


async def test_an_accepted_socket_keeps_no_handshake_headers(server: Server) -> None:
    """uvicorn's request, response and the scope's headers go once the origin is checked; the
    socket still works and closes as before."""
    shopper = await server.shopper()
    await shopper.expect("availability")
    _, protocol = await _only_shopper(server)
    assert protocol.request is None and protocol.response is None
    assert not protocol.scope["headers"]
    await shopper.send('{"type": "typing", "typing": true}')
    await shopper.close()
    await server.until(lambda: _no_shoppers(server))


async def _no_shoppers(server: Server) -> bool:
    return not server.hub.fanout.shopper_ids()


def test_wire_finds_only_uvicorns_sansio_send() -> None:
    async def other_send(message: Any) -> None:
        pass

    assert wire.protocol_of(other_send) is None
