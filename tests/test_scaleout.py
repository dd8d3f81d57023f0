"""Scale-out faults with real worker processes on one Redis: agents keep their chats and
status when their socket moves, and no chat waits on a worker that died."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from chatserver.cli import main
from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._processes import free_port, until_healthy
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Client
from tests.test_multiworker import SHOP, PrivateRedis, open_client
from tests.test_multiworker import private_redis as private_redis  # the fixture

pytestmark = [pytest.mark.slow, pytest.mark.redis]

TTL, GRACE = 2.0, 2.0
Worker = Callable[[], Awaitable[tuple[str, subprocess.Popen[bytes]]]]


class Workers:
    """Worker processes on one Redis prefix, with a short presence TTL and grace period."""

    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.prefix, self.procs = unique_prefix(), list[subprocess.Popen[bytes]]()
        self.tmp_path = tmp_path
        self.shared = ["--redis-url", redis_url, "--redis-prefix", self.prefix]

    async def add_agents(self, *names: str) -> None:
        for name in names:
            add = ["agents", "add", name, "--password", "pw", *self.shared]
            assert await asyncio.to_thread(main, [*add, "--data-dir", str(self.tmp_path)]) == 0

    async def start(self) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        command = [sys.executable, "-m", "chatserver", "serve", "--port", str(port), *self.shared]
        command += ["--data-dir", str(self.tmp_path / f"w{len(self.procs)}")]
        command += ["--allowed-origins", SHOP, "--faq-dir", str(self.tmp_path / "no-faq")]
        env = {
            **os.environ,
            "CHAT_SECRET_KEY": "a key every worker shares " + self.prefix,
            "CHAT_PRESENCE_TTL_S": str(TTL),
            "CHAT_AGENT_GRACE_S": str(GRACE),
        }
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        await until_healthy(url, proc)
        return url, proc

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:  # a loaded machine: do not leave it running
                proc.kill()
                await asyncio.to_thread(proc.wait, 10)


_OPEN: list[Client] = []
"""The sockets this test opened (``console``, ``new_chat``): closed when it ends, whatever the
workers did, so none is left for the collector to find in a later test."""


@pytest.fixture(autouse=True)
async def close_sockets() -> AsyncIterator[None]:
    # What earlier tests left for the collector goes now, not in the middle of a Redis restart.
    gc.collect()
    yield
    while _OPEN:
        client = _OPEN.pop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[str, Worker]]:
    """Workers on the shared test Redis; agents alice and bob."""
    workers = Workers(tmp_path, REDIS_URL)
    await workers.add_agents("alice", "bob")
    yield workers.prefix, workers.start
    await workers.stop()
    await drop_keys(workers.prefix)


async def login(url: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=url) as http:
        reply = await http.post("/api/login", json={"username": name, "password": "pw"})
    return str(reply.json()["token"])


async def console(url: str, token: str, last_seqs: dict[str, int] | None = None) -> Client:
    """An agent socket opened as the console opens it after a fault: no set_status."""
    hello = p.Hello(version=p.PROTOCOL_VERSION, token=token, last_seqs=last_seqs or {})
    client = await open_client(url, "/ws/agent", hello, origin=None)
    _OPEN.append(client)
    return client


async def status_of(prefix: str, agent_id: str) -> tuple[str, int, int]:
    store = RedisStore(REDIS_URL, prefix=prefix)
    try:
        seen = {a.agent_id: a for a in await store.router.presence()}[agent_id]
        return seen.status, seen.capacity, seen.open_chats
    finally:
        await store.close()


async def new_chat(url: str, text: str) -> tuple[Client, str]:
    shopper = await open_client(url, "/ws/shopper", p.Hello(version=p.PROTOCOL_VERSION))
    _OPEN.append(shopper)
    await shopper.send(p.SendMessage(client_id="s1", text=text))
    return shopper, (await shopper.expect("ack", client_id="s1"))["conversation_id"]


@pytest.mark.parametrize("old_socket_closes_first", [True, False])
async def test_an_agent_whose_socket_moves_to_another_worker_keeps_chats_status_and_capacity(
    cluster: tuple[str, Worker], old_socket_closes_first: bool
) -> None:
    prefix, start = cluster
    (url_a, _), (url_b, _) = await start(), await start()
    token = await login(url_a, "alice")
    alice = await console(url_a, token)
    await alice.send(p.SetStatus(status="online", capacity=30))
    await alice.expect("status_changed", status="online", capacity=30)
    _, held = await new_chat(url_b, "Is this in stock?")
    await alice.expect("conversation_assigned", conversation_id=held)
    seen = max(f["seq"] for f in alice.received if f.get("conversation_id") == held)

    if old_socket_closes_first:
        await alice.close()  # the network drops; the console comes back through the other worker
    again = await console(url_b, token, {held: seen})
    if not old_socket_closes_first:
        await alice.close()  # the old worker notices the drop only after she is back elsewhere
    assert [c["conversation_id"] for c in again.all("welcome")[0]["conversations"]] == [held]
    await again.expect("status_changed", status="online", capacity=30)

    # Well past the presence TTL and the grace period: still online, chats kept, and a new
    # shopper on the first worker is given to her.
    await asyncio.sleep(2 * (TTL + GRACE))
    assert await status_of(prefix, "alice") == ("online", 30, 1)
    _, later = await new_chat(url_a, "And this one?")
    await again.expect("conversation_assigned", conversation_id=later)
    await again.close()


async def test_chats_of_an_agent_whose_worker_died_requeue_to_a_backup_after_the_grace_period(
    cluster: tuple[str, Worker],
) -> None:
    _, start = cluster
    (url_a, worker_a), (url_b, _) = await start(), await start()
    alice = await console(url_a, await login(url_a, "alice"))
    await alice.send(p.SetStatus(status="online", capacity=4))
    await alice.expect("status_changed", status="online")
    held = [(await new_chat(url_b, f"question {i}"))[1] for i in range(4)]
    for conversation_id in held:
        await alice.expect("conversation_assigned", conversation_id=conversation_id)
    bob = await console(url_b, await login(url_b, "bob"))
    await bob.send(p.SetStatus(status="online", capacity=4))
    await bob.expect("status_changed", status="online")

    worker_a.send_signal(signal.SIGKILL)  # alice's worker dies; she never comes back
    killed = time.monotonic()
    await asyncio.to_thread(worker_a.wait, 10)
    deadline = killed + TTL + GRACE + 10
    assigned: set[str] = set()
    while assigned != set(held) and time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(bob.ws.recv(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if '"conversation_assigned"' in str(frame):
            assigned |= {c for c in held if c in str(frame)}
    assert assigned == set(held), f"requeued to bob: {len(assigned)} of {len(held)}"
    took = time.monotonic() - killed
    assert took >= GRACE  # the grace period was honoured
    print(f"requeued {len(held)} chats {took:.1f}s after the worker died")


async def test_a_client_on_another_worker_gets_what_was_stored_while_redis_restarted(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    """Events published while a worker's pub/sub was reconnecting are read from the log."""
    workers = Workers(tmp_path, private_redis.url)
    await workers.add_agents("alice")
    try:
        (url_a, _), (url_b, _) = await workers.start(), await workers.start()
        alice = await console(url_a, await login(url_a, "alice"))
        await alice.send(p.SetStatus(status="online", capacity=2))
        await alice.expect("status_changed", status="online")
        shopper, conversation_id = await new_chat(url_b, "hello")
        await alice.expect("conversation_assigned", conversation_id=conversation_id)

        await private_redis.stop()
        await private_redis.start()
        for i in range(5):  # the agent sends at once, retrying until acknowledged
            frame = p.SendMessage(conversation_id=conversation_id, client_id=f"a{i}", text=f"r{i}")
            for _ in range(100):
                await alice.send(frame)
                if await acked(alice, f"a{i}"):
                    break
        for i in range(5):
            await shopper.expect("message_posted", text=f"r{i}")
    finally:
        await workers.stop()


async def acked(client: Client, client_id: str) -> bool:
    """The next ack or error for this send: True for an ack."""
    while True:
        frame = json.loads(await asyncio.wait_for(client.ws.recv(), 10))
        client.received.append(frame)
        if frame.get("type") == "ack" and frame.get("client_id") == client_id:
            return True
        if frame.get("type") == "error":
            await asyncio.sleep(0.05)  # the widget's retry delay
            return False
