"""The embedded store after a restart: an agent who reconnects as the console does (no
``set_status``) comes back with the status and capacity they had chosen."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from chatserver.cli import main
from chatserver.domain import protocol as p
from tests._processes import free_port, until_healthy
from tests.conftest import Client
from tests.test_multiworker import SHOP, open_client

pytestmark = pytest.mark.slow

Start = Callable[[], Awaitable[tuple[str, subprocess.Popen[bytes]]]]


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[Start]:
    """Start the embedded server on one data directory, as often as a test asks."""
    data, port, procs = tmp_path / "data", free_port(), list[subprocess.Popen[bytes]]()
    add = ["agents", "add", "alice", "--password", "pw", "--data-dir", str(data)]
    assert await asyncio.to_thread(main, add) == 0

    async def start() -> tuple[str, subprocess.Popen[bytes]]:
        command = [sys.executable, "-m", "chatserver", "serve", "--port", str(port)]
        command += ["--data-dir", str(data), "--allowed-origins", SHOP]
        command += ["--faq-dir", str(tmp_path / "no-faq")]  # no bot: chats go to agents
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        await until_healthy(url, proc)
        return url, proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        await asyncio.to_thread(proc.wait, 10)


async def console(url: str, token: str) -> Client:
    """The console's socket after a fault: hello with its positions, no set_status."""
    return await open_client(url, "/ws/agent", p.Hello(version=p.PROTOCOL_VERSION, token=token))


@pytest.mark.parametrize("holding_a_chat", [False, True])
async def test_an_agent_comes_back_after_a_restart_with_the_status_and_capacity_they_chose(
    embedded: Start, holding_a_chat: bool
) -> None:
    url, proc = await embedded()
    async with httpx.AsyncClient(base_url=url) as http:
        token = (
            await http.post("/api/login", json={"username": "alice", "password": "pw"})
        ).json()["token"]
    alice = await console(url, token)
    await alice.send(p.SetStatus(status="online", capacity=30))
    await alice.expect("status_changed", status="online", capacity=30)
    if holding_a_chat:
        shopper = await open_client(url, "/ws/shopper", p.Hello(version=p.PROTOCOL_VERSION))
        await shopper.send(p.SendMessage(client_id="s1", text="Is this in stock?"))
        await alice.expect("conversation_assigned")
    await alice.send(p.SetStatus(status="away", capacity=30))
    await alice.expect("status_changed", status="away", capacity=30)

    proc.send_signal(signal.SIGKILL)  # the machine restarts the service
    await asyncio.to_thread(proc.wait, 10)
    url, _ = await embedded()

    again = await console(url, token)
    await again.expect("status_changed", status="away", capacity=30)
    assert len(again.all("welcome")[0]["conversations"]) == int(holding_a_chat)
    assert not [f for f in again.all("status_changed") if f["status"] != "away"]
    await again.close()
