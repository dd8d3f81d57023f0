"""Shared fixtures: a controllable clock, a real uvicorn server in the test's loop, real clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect

from chatserver.cli.serve import uvicorn_config
from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.domain.bot import Bot
from chatserver.domain.settings import Settings
from chatserver.store.base import Store
from chatserver.store.redis import RedisStore
from chatserver.web.app import create_app
from tests._redis import REDIS_URL, drop_keys, unique_prefix

TIMEOUT = 5.0


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + seconds, wake))
        await wake

    async def advance(self, seconds: float) -> None:
        """Move time on, waking every sleeper whose time has come, and let them run."""
        self._now += seconds
        due = [(t, f) for t, f in self._sleepers if t <= self._now]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > self._now]
        for _, wake in due:
            if not wake.done():
                wake.set_result(None)
        for _ in range(20):
            await asyncio.sleep(0)


@dataclass
class Client:
    """A real websocket client that remembers every frame it received."""

    ws: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    _matched: set[int] = field(default_factory=set)

    async def send(self, frame: BaseModel | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else frame.model_dump_json())

    async def expect(self, type_: str, **fields: Any) -> dict[str, Any]:
        """The first frame not matched before with this type and these field values."""

        def matches(frame: dict[str, Any]) -> bool:
            return frame.get("type") == type_ and all(frame.get(k) == v for k, v in fields.items())

        async def wait() -> dict[str, Any]:
            checked = 0
            while True:
                for i in range(checked, len(self.received)):
                    if i not in self._matched and matches(self.received[i]):
                        self._matched.add(i)
                        return self.received[i]
                checked = len(self.received)
                self.received.append(json.loads(await self.ws.recv()))

        try:
            return await asyncio.wait_for(wait(), TIMEOUT)
        except TimeoutError:
            raise AssertionError(
                f"no {type_} frame with {fields}; got {[f.get('type') for f in self.received]}"
            ) from None

    def all(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in self.received if f.get("type") == type_]

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Server:
    """A running chatserver and ways to reach it."""

    url: str
    ws_url: str
    hub: Hub
    settings: Settings
    clock: FakeClock
    clients: list[Client] = field(default_factory=list)

    async def until(self, condition: Callable[[], Awaitable[bool]]) -> None:
        """Wait until the server reaches a state (polls it; fails after the timeout)."""

        async def poll() -> None:
            while not await condition():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), TIMEOUT)

    async def agent_offline(self, agent_id: str) -> None:
        """Wait until the server has noticed an agent's socket closing."""

        async def offline() -> bool:
            presence = {a.agent_id: a.status for a in await self.hub.store.router.presence()}
            return presence.get(agent_id) == "offline"

        await self.until(offline)

    async def raw(self, path: str, origin: str | None = None) -> Client:
        headers = {"Origin": origin} if origin else None
        ws = await connect(self.ws_url + path, additional_headers=headers, max_size=2**22)
        client = Client(ws)
        self.clients.append(client)
        return client

    async def shopper(self, token: str | None = None, last_seq: int = 0) -> Client:
        """A shopper socket from the shop's own page, past its welcome."""
        client = await self.raw("/ws/shopper", origin=self.settings.base_url)
        await client.send(p.Hello(version=p.PROTOCOL_VERSION, token=token, last_seq=last_seq))
        await client.expect("welcome")
        return client

    async def agent(
        self,
        agent_id: str,
        capacity: int = 2,
        online: bool = True,
        last_seqs: dict[str, int] | None = None,
        languages: list[str] | None = None,
    ) -> Client:
        """An agent (created if new, speaking ``languages`` if given) logged in on a socket,
        online with this capacity."""
        account = await self.hub.accounts.get(agent_id)
        if account is None:
            account = await self.hub.accounts.add(
                agent_id, agent_id.title(), "pw-" + agent_id, capacity=capacity
            )
        if languages is not None:
            await self.hub.accounts.save(account.model_copy(update={"languages": languages}))
        token = self.hub.tokens.new_session(agent_id)
        client = await self.raw("/ws/agent")
        await client.send(
            p.Hello(version=p.PROTOCOL_VERSION, token=token, last_seqs=last_seqs or {})
        )
        await client.expect("welcome")
        if online:
            await client.send(p.SetStatus(status="online", capacity=capacity))
            await client.expect("status_changed", status="online")
        return client


ServerFactory = Callable[..., Awaitable[Server]]


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend_kind(request: pytest.FixtureRequest) -> str:
    """Every app-level test runs on each backend."""
    return str(request.param)


@pytest.fixture
async def start_server(tmp_path: Path, backend_kind: str) -> AsyncIterator[ServerFactory]:
    """Start real uvicorn servers in this test's loop; all are stopped at the end.

    On Redis, the servers of one test share a key prefix (like workers of one shop) that is
    deleted afterwards.
    """
    running: list[tuple[uvicorn.Server, asyncio.Task[None], Server]] = []
    prefix = unique_prefix()

    async def start(store: Store | None = None, bot: Bot | None = None, **overrides: Any) -> Server:
        if store is None and backend_kind == "redis":
            store = RedisStore(REDIS_URL, prefix=prefix)
        # No FAQ bot unless a test asks for one: routing tests need every chat in the queue.
        overrides.setdefault("faq_dir", tmp_path / "no-faq")
        settings = Settings(port=0, data_dir=tmp_path / f"data{len(running)}", **overrides)
        clock = FakeClock()
        app = create_app(settings, store=store, clock=clock, bot=bot)
        config = uvicorn.Config(app, **{**uvicorn_config(settings), "log_level": "warning"})  # type: ignore[arg-type]
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        # The origin check needs the real port; the app reads settings by reference.
        settings.port = port
        handle = Server(
            f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app.state.hub, settings, clock
        )
        running.append((server, task, handle))
        return handle

    yield start
    for server, task, handle in running:
        for client in handle.clients:
            await client.close()
        server.should_exit = True
        await task
    if backend_kind == "redis":
        await drop_keys(prefix)


@pytest.fixture
async def server(start_server: ServerFactory) -> Server:
    return await start_server()
