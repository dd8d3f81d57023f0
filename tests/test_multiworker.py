"""Scale-out end to end: server processes on two ports share one Redis, and survive losing things."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from chatserver.cli import main
from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._processes import free_port, until_healthy
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Client, ServerFactory

SHOP = "https://shop.example"

pytestmark = [pytest.mark.slow, pytest.mark.redis]


Worker = Callable[[], Awaitable[tuple[str, subprocess.Popen[bytes]]]]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[str, Worker]]:
    """Start worker processes sharing one Redis prefix and secret key; all are stopped after."""
    prefix, procs = unique_prefix(), []
    shared = ["--redis-url", REDIS_URL, "--redis-prefix", prefix]
    add = ["agents", "add", "alice", "--password", "pw", *shared, "--data-dir", str(tmp_path)]
    assert await asyncio.to_thread(main, add) == 0

    async def start() -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        command = [sys.executable, "-m", "chatserver", "serve", "--port", str(port), *shared]
        command += ["--data-dir", str(tmp_path / f"w{len(procs)}"), "--allowed-origins", SHOP]
        command += ["--faq-dir", str(tmp_path / "no-faq")]  # no bot: agents get every chat
        env = {**os.environ, "CHAT_SECRET_KEY": "a key every worker shares " + prefix}
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        await until_healthy(url, proc)
        return url, proc

    yield prefix, start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
    await drop_keys(prefix)


async def open_client(url: str, path: str, hello: p.Hello, origin: str | None = SHOP) -> Client:
    headers = {"Origin": origin} if origin else None
    ws = await connect(url.replace("http", "ws") + path, additional_headers=headers)
    client = Client(ws)
    await client.send(hello)
    await client.expect("welcome")
    return client


async def agent_on(url: str) -> Client:
    async with httpx.AsyncClient(base_url=url) as http:
        login = await http.post("/api/login", json={"username": "alice", "password": "pw"})
    hello = p.Hello(version=p.PROTOCOL_VERSION, token=login.json()["token"])
    agent = await open_client(url, "/ws/agent", hello, origin=None)
    await agent.send(p.SetStatus(status="online", capacity=2))
    await agent.expect("status_changed", status="online")
    return agent


async def test_shopper_and_agent_on_different_workers_chat_and_survive_a_killed_worker(
    cluster: tuple[str, Worker],
) -> None:
    prefix, start = cluster
    (url_a, worker_a), (url_b, _) = await start(), await start()
    agent = await agent_on(url_b)
    shopper = await open_client(url_a, "/ws/shopper", p.Hello(version=p.PROTOCOL_VERSION))
    token = shopper.all("welcome")[0]["token"]

    await shopper.send(p.SendMessage(client_id="s1", text="Is this in stock?"))
    conversation_id = (await shopper.expect("ack", client_id="s1"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=conversation_id)
    await agent.expect("message_posted", text="Is this in stock?")
    await agent.send(p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Yes."))
    await agent.expect("ack", client_id="a1")
    await shopper.expect("message_posted", text="Yes.", author="agent")
    await shopper.send(p.SendMessage(client_id="s2", text="Great, two please"))
    await shopper.expect("ack", client_id="s2")
    await agent.expect("message_posted", text="Great, two please")
    seen = max(f["seq"] for f in shopper.received if f["type"] == "message_posted")

    worker_a.send_signal(signal.SIGKILL)  # the shopper's worker dies mid-chat
    await asyncio.to_thread(worker_a.wait, 10)
    for i in range(3):
        await agent.send(
            p.SendMessage(conversation_id=conversation_id, client_id=f"a{i + 2}", text=f"r{i}")
        )
        await agent.expect("ack", client_id=f"a{i + 2}")

    # The shopper's browser reconnects, through the load balancer, to the surviving worker.
    hello = p.Hello(version=p.PROTOCOL_VERSION, token=token, last_seq=seen)
    again = await open_client(url_b, "/ws/shopper", hello)
    assert [c["conversation_id"] for c in again.all("welcome")[0]["conversations"]] == [
        conversation_id
    ]
    await again.expect("message_posted", text="r2")
    replayed = [f for f in again.received if f.get("type") == "message_posted"]
    assert [f["text"] for f in replayed] == ["r0", "r1", "r2"]
    assert [f["seq"] for f in replayed] == sorted({f["seq"] for f in replayed})
    await again.send(p.SendMessage(client_id="s3", text="Thanks!"))
    await again.expect("ack", client_id="s3")
    await agent.expect("message_posted", text="Thanks!")

    store = RedisStore(REDIS_URL, prefix=prefix)
    log = [text for _, text in await store.log.read(conversation_id)]
    for text in ("Is this in stock?", "Yes.", "Great, two please", "r0", "r1", "r2", "Thanks!"):
        assert sum(f'"text":"{text}"' in event for event in log) == 1, text
    await store.close()
    for client in (agent, shopper, again):
        await client.close()


class PrivateRedis:
    """A redis-server of this test's own, persisting to disk, that a test can stop and start."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.to_thread(self.proc.wait, 10)


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("backend_kind", ["redis"])
async def test_worker_that_loses_redis_says_unavailable_and_recovers_by_itself(
    start_server: ServerFactory, private_redis: PrivateRedis
) -> None:
    server = await start_server(store=RedisStore(private_redis.url))
    agent = await server.agent("alice")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="before"))
    await shopper.expect("ack", client_id="m1")
    conversation_id = (await agent.expect("conversation_assigned"))["conversation_id"]
    await agent.expect("message_posted", text="before")

    await private_redis.stop()
    await shopper.send(p.SendMessage(client_id="m2", text="during"))
    error = await shopper.expect("error", code="unavailable")
    assert "temporarily unavailable" in error["message"]

    await private_redis.start()
    # The client retries the same message until it is acknowledged, as the widget does (after
    # a pause: an outage is refused at once).
    for _ in range(100):
        await asyncio.sleep(0.05)
        await shopper.send(p.SendMessage(client_id="m2", text="during"))
        reply = await shopper.expect("ack" if await _stored(shopper) else "error")
        if reply["type"] == "ack":
            break
    else:
        raise AssertionError("the worker did not recover")
    await agent.expect("message_posted", text="during")  # pub/sub reconnected by itself
    log = await server.hub.store.log.read(conversation_id)
    assert sum('"text":"during"' in text for _, text in log) == 1
    assert sum('"text":"before"' in text for _, text in log) == 1


async def _stored(client: Client) -> bool:
    """Wait for the next ack or error frame; True when it is an ack."""
    while True:
        for i, frame in enumerate(client.received):
            if i not in client._matched and frame.get("type") in ("ack", "error"):
                return frame["type"] == "ack"
        client.received.append(json.loads(await asyncio.wait_for(client.ws.recv(), 10)))
