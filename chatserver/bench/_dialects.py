"""How bench shoppers and agents talk: the chat protocol (``hub``) or the bare relay (``bare``).

Shoppers send a 64-byte text that starts with a message id; the agent who receives it sends the
same text back; the shopper matches the echo to its send time. Both dialects do exactly that, so
the two servers relay the same load.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from chatserver.bench import _wsclient as ws
from chatserver.bench._phase import Phase
from chatserver.domain import protocol as p
from chatserver.web.auth_api import LoginRequest

try:
    from orjson import loads
except ImportError:  # pragma: no cover - orjson is optional, it only makes the client lighter
    from json import loads  # type: ignore[assignment]


class LoadGen(Protocol):
    """What a dialect's clients report to their load generator (``load.LoadGen``)."""

    config: dict[str, Any]
    phase: Phase | None
    seq_gaps: int
    seq_repeats: int

    def sent(self) -> None: ...
    def refused(self, shopper: ShopperBase, message_id: str, retry_after_ms: int) -> None: ...
    def answered(self, shopper: ShopperBase, message_id: str) -> None: ...
    def error(self, text: str) -> None: ...


CONNECT_TIMEOUT = 30.0
BENCH_PASSWORD = "bench-password"


def agent_id(index: int) -> str:
    return f"bench-{index}"


class _Client:
    def __init__(self, gen: LoadGen, index: int) -> None:
        self.gen, self.index = gen, index
        self.client: ws.WsClient | None = None
        config = gen.config
        self.host: str = config["host"]
        self.port: int = config["ports"][index % len(config["ports"])]
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def _open(self, path: str, origin: str | None = None) -> None:
        self.client = await ws.connect(
            self.host, self.port, path, self.on_text, origin, CONNECT_TIMEOUT
        )

    def _expect(self, kind: str) -> asyncio.Future[dict[str, Any]]:
        """A future for the next frame of this type (made before the frame that causes it is sent)."""
        future = self._waiting[kind] = asyncio.get_running_loop().create_future()
        return future

    async def _await(self, future: asyncio.Future[dict[str, Any]]) -> dict[str, Any]:
        return await asyncio.wait_for(future, CONNECT_TIMEOUT)

    def _arrived(self, kind: str, frame: dict[str, Any]) -> None:
        future = self._waiting.pop(kind, None)
        if future is not None and not future.done():
            future.set_result(frame)

    def on_text(self, raw: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


class ShopperBase(_Client):
    """A shopper: sends messages and times the agent's answers."""

    def __init__(self, gen: LoadGen, index: int) -> None:
        super().__init__(gen, index)
        self.pending: dict[str, tuple[float, Phase | None]] = {}
        self.answered_ids: set[str] = set()
        self.lost_ids: set[str] = set()
        self.count = 0
        self.text_bytes: int = gen.config.get("text_bytes", 64)
        self._answer: asyncio.Future[None] | None = None

    def send_message(self, scheduled: float) -> None:
        self.count += 1
        message_id = f"{self.index}-{self.count}"
        self.pending[message_id] = (scheduled, self.gen.phase)
        self.gen.sent()
        text = message_id + " " + "x" * max(1, self.text_bytes - len(message_id) - 1)
        self._send(message_id, text)

    def _send(self, message_id: str, text: str) -> None:
        raise NotImplementedError

    async def connect(self) -> None:
        raise NotImplementedError

    def on_answer(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(None)

    async def wait_answer(self) -> None:
        self._answer = asyncio.get_running_loop().create_future()
        if self.pending:
            await self._answer


class AgentBase(_Client):
    """An agent: answers every shopper message once, with the same text."""

    def __init__(self, gen: LoadGen, index: int) -> None:
        super().__init__(gen, index)
        self.seen: set[str] = set()
        self.duplicates = 0
        self.count = 0

    async def connect(self) -> None:
        raise NotImplementedError

    def first_time(self, message_id: str) -> bool:
        if message_id in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(message_id)
        return True


class HubShopper(ShopperBase):
    """A widget: hello, welcome (token), then messages in its conversation."""

    last_seq = 0

    async def connect(self) -> None:
        await self._open("/ws/shopper", origin=f"http://{self.host}:{self.port}")
        assert self.client is not None
        welcome = self._expect("welcome")
        self.client.send_text(p.Hello(version=p.PROTOCOL_VERSION).model_dump_json())
        await self._await(welcome)

    def _send(self, message_id: str, text: str) -> None:
        assert self.client is not None
        self.client.send_text(p.SendMessage(client_id=message_id, text=text).model_dump_json())

    def on_text(self, raw: str) -> None:
        frame = loads(raw)
        kind = frame["type"]
        seq = frame.get("seq")
        if seq is not None and kind != "ack":
            if seq <= self.last_seq:
                self.gen.seq_repeats += 1
            elif seq > self.last_seq + 1:
                self.gen.seq_gaps += seq - self.last_seq - 1
            self.last_seq = max(seq, self.last_seq)
        if kind == "message_posted":
            if frame["author"] == "agent":
                self.gen.answered(self, frame["text"].split(" ", 1)[0])
        elif kind == "error":
            if frame["code"] == "overloaded" and frame.get("client_id"):
                self.gen.refused(self, frame["client_id"], frame.get("retry_after_ms") or 0)
            else:
                self.gen.error(raw)
        else:
            self._arrived(kind, frame)


class HubAgent(AgentBase):
    """A console: log in over HTTP, hello with the session token, go online, answer."""

    async def connect(self) -> None:
        login = LoginRequest(username=agent_id(self.index), password=BENCH_PASSWORD)
        body = login.model_dump_json().encode()
        status, reply = await ws.post_json(
            self.host, self.port, "/api/login", body, CONNECT_TIMEOUT
        )
        if status != 200:
            raise RuntimeError(f"agent login failed ({status}): {reply[:200]!r}")
        token = loads(reply)["token"]
        await self._open("/ws/agent")
        assert self.client is not None
        welcome = self._expect("welcome")
        self.client.send_text(p.Hello(version=p.PROTOCOL_VERSION, token=token).model_dump_json())
        await self._await(welcome)
        online = self._expect("status_changed")
        capacity = self.gen.config["capacity"]
        self.client.send_text(p.SetStatus(status="online", capacity=capacity).model_dump_json())
        await self._await(online)

    def on_text(self, raw: str) -> None:
        frame = loads(raw)
        kind = frame["type"]
        if kind == "message_posted":
            if frame["author"] == "shopper":
                text = frame["text"]
                if self.first_time(text.split(" ", 1)[0]):
                    self.count += 1
                    assert self.client is not None
                    reply = p.SendMessage(
                        conversation_id=frame["conversation_id"],
                        client_id=f"a{self.index}-{self.count}",
                        text=text,
                    )
                    self.client.send_text(reply.model_dump_json())
        elif kind == "error":
            self.gen.error(raw)
        elif kind != "status_changed" or frame["status"] == "online":
            self._arrived(kind, frame)


class BareShopper(ShopperBase):
    """A socket to the bare relay: plain text out, the echo back."""

    async def connect(self) -> None:
        await self._open(f"/shopper/{self.index}")

    def _send(self, message_id: str, text: str) -> None:
        assert self.client is not None
        self.client.send_text(text)

    def on_text(self, raw: str) -> None:
        self.gen.answered(self, raw.split(" ", 1)[0])


class BareAgent(AgentBase):
    """An agent socket of the bare relay: frames come as ``shopper|text`` and go back the same."""

    async def connect(self) -> None:
        await self._open(f"/agent/{self.index}")

    def on_text(self, raw: str) -> None:
        _, _, text = raw.partition("|")
        if self.first_time(text.split(" ", 1)[0]):
            assert self.client is not None
            self.client.send_text(raw)


class VisitorBase(_Client):
    """A page view that opens the chat: connect, say hello, get the welcome, close."""

    async def visit(self, token: str | None) -> str | None:
        """One visit; returns the token a returning visitor sends next time."""
        raise NotImplementedError

    async def _round(self, path: str, origin: str | None, hello: str) -> dict[str, Any]:
        await self._open(path, origin)
        assert self.client is not None
        try:
            welcome = self._expect("welcome")
            self.client.send_text(hello)
            return await self._await(welcome)
        finally:
            self.client.close()
            await asyncio.wait_for(self.client.closed, CONNECT_TIMEOUT)


class HubVisitor(VisitorBase):
    """The widget on a product page: hello (with the stored token of an earlier visit, if any)."""

    async def visit(self, token: str | None) -> str | None:
        hello = p.Hello(version=p.PROTOCOL_VERSION, token=token).model_dump_json()
        origin = f"http://{self.host}:{self.port}"
        welcome = await self._round("/ws/shopper", origin, hello)
        return welcome.get("token") or token

    def on_text(self, raw: str) -> None:
        frame = loads(raw)
        if frame["type"] == "error":
            self.gen.error(raw)
        self._arrived(frame["type"], frame)


class BareVisitor(VisitorBase):
    """The same visit on the bare relay: one text out, one text back."""

    async def visit(self, token: str | None) -> str | None:
        await self._round("/visit", None, token or "hello")
        return token or f"visitor-{self.index}"

    def on_text(self, raw: str) -> None:
        self._arrived("welcome", {"text": raw})


def dialect_classes(
    dialect: str,
) -> tuple[type[ShopperBase], type[AgentBase], type[VisitorBase]]:
    if dialect == "hub":
        return HubShopper, HubAgent, HubVisitor
    if dialect == "bare":
        return BareShopper, BareAgent, BareVisitor
    raise ValueError(f"unknown dialect {dialect!r}")
