"""Kill the server mid-conversation (SIGKILL), start it again: every acknowledged message is there."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from chatserver.cli import main
from chatserver.domain import protocol as p
from chatserver.store.sqlite import SQLiteStore
from tests._processes import free_port, until_healthy
from tests.conftest import Client

pytestmark = pytest.mark.slow


@pytest.fixture
async def run_server(tmp_path: Path) -> AsyncIterator[Callable[[], asyncio.Future]]:
    port, procs = free_port(), []
    data = tmp_path / "data"
    add = ["agents", "add", "alice", "--password", "pw", "--data-dir", str(data)]
    assert await asyncio.to_thread(main, add) == 0

    async def start() -> str:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatserver",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data),
                "--faq-dir",  # no bot: chats go to the agent whatever the hour
                str(tmp_path / "no-faq"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        await until_healthy(url, proc)
        return url

    yield start  # type: ignore[misc]
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


OPEN: list[Client] = []


@pytest.fixture(autouse=True)
async def close_clients() -> AsyncIterator[None]:
    yield
    while OPEN:
        await OPEN.pop().close()


async def open_client(url: str, path: str, hello: p.Hello) -> Client:
    ws = await connect(url.replace("http", "ws") + path, additional_headers={"Origin": url})
    client = Client(ws)
    OPEN.append(client)
    await client.send(hello)
    await client.expect("welcome")
    return client


async def test_sigkill_loses_no_acknowledged_message_and_clients_resume(
    run_server, tmp_path: Path
) -> None:
    url = await run_server()
    async with httpx.AsyncClient(base_url=url) as http:
        token = (
            await http.post("/api/login", json={"username": "alice", "password": "pw"})
        ).json()["token"]
    agent = await open_client(url, "/ws/agent", p.Hello(version=p.PROTOCOL_VERSION, token=token))
    await agent.send(p.SetStatus(status="online", capacity=2))
    await agent.expect("status_changed", status="online")
    shopper = await open_client(url, "/ws/shopper", p.Hello(version=p.PROTOCOL_VERSION))
    shopper_token = shopper.all("welcome")[0]["token"]

    await shopper.send(p.SendMessage(client_id="m0", text="message 0"))
    conversation_id = (await shopper.expect("ack", client_id="m0"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=conversation_id)

    # Send a burst without waiting, kill the server while it is being stored.
    for i in range(1, 200):
        await shopper.send(p.SendMessage(client_id=f"m{i}", text=f"message {i}"))
    await shopper.expect("ack", client_id="m20")
    os.kill(agent_pid := _server_pid(url), signal.SIGKILL)
    await shopper.ws.wait_closed()
    acked = {f["client_id"] for f in shopper.all("ack")}
    assert agent_pid and len(acked) >= 21

    url = await run_server()
    again = await open_client(
        url, "/ws/shopper", p.Hello(version=p.PROTOCOL_VERSION, token=shopper_token)
    )
    welcome = again.all("welcome")[0]
    assert [c["conversation_id"] for c in welcome["conversations"]] == [conversation_id]
    for client_id in sorted(acked):
        await again.expect("message_posted", client_id=client_id)
    seqs = [f["seq"] for f in again.received if "seq" in f]
    assert seqs == list(range(1, len(seqs) + 1))

    # The agent resumes with its session token and still holds the chat.
    resumed = await open_client(url, "/ws/agent", p.Hello(version=p.PROTOCOL_VERSION, token=token))
    assert [c["conversation_id"] for c in resumed.all("welcome")[0]["conversations"]] == [
        conversation_id
    ]
    await resumed.send(p.SetStatus(status="online"))
    await resumed.send(
        p.SendMessage(conversation_id=conversation_id, client_id="back", text="I'm back")
    )
    await again.expect("message_posted", text="I'm back")

    # Killed again before it wrote the record back: opened again, the record counts every
    # message its log holds (the stored events carry their changes to it).
    os.kill(_server_pid(url), signal.SIGKILL)
    await again.ws.wait_closed()
    store = SQLiteStore(tmp_path / "data" / "chat.sqlite3")
    await store.start()
    try:
        record = await store.records.get(conversation_id)
        events = [json.loads(text) for _, text in await store.log.read(conversation_id)]
    finally:
        await store.close()
    assert record is not None and json.loads(record["messages"]) == len(
        [e for e in events if e["type"] == "message_posted"]
    )
    assert json.loads(record["clock_started"]) is None  # the agent's reply stopped the clock


def _server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    out = subprocess.run(
        ["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True
    ).stdout
    return int(out.split("pid=")[1].split(",")[0])
