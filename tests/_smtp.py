"""Real SMTP servers for the e-mail tests: one that accepts (aiosmtpd), one that refuses, one that
never answers; each listens on 127.0.0.1 in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope


@dataclass
class Mailbox:
    """An SMTP server's handler: keeps every message, or refuses them while ``refuse`` is set."""

    port: int = 0
    refuse: str = ""
    received: list[Message] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:
        if self.refuse:
            return self.refuse
        assert isinstance(envelope.content, bytes)
        self.received.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"

    async def next(self, count: int = 1) -> list[Message]:
        """Wait until ``count`` messages have arrived in all; returns them all."""

        async def enough() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), 10)
        return self.received

    def to(self, address: str) -> list[Message]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
async def smtp() -> AsyncIterator[Mailbox]:
    """A real SMTP server (aiosmtpd) that accepts every message, unless told to refuse."""
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(box), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


@pytest.fixture
async def silent_smtp() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word: every attempt times out."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@dataclass
class TlsMailbox:
    """An SMTP server that requires STARTTLS and a login (``shop`` / ``s3cret``)."""

    box: Mailbox
    ca_file: str


@pytest.fixture
async def tls_smtp(tmp_path: Any) -> AsyncIterator[TlsMailbox]:
    import ssl

    import trustme
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def login(
        server: SMTP, session: Any, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"shop", b"s3cret")
        return AuthResult(success=ok, handled=False)

    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            box,
            tls_context=context,
            require_starttls=True,
            authenticator=login,
            auth_required=True,
        ),
        "127.0.0.1",
        0,
    )
    box.port = server.sockets[0].getsockname()[1]
    yield TlsMailbox(box, str(ca_file))
    server.close()
    await server.wait_closed()
