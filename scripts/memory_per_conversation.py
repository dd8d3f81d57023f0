"""Memory per finished conversation: RSS of a real server process before and after N more
conversations (shopper connects, writes, an agent is given the chat, the shopper ends it and
leaves), on the embedded store or on Redis.

    PYTHONPATH=. python3 scripts/memory_per_conversation.py sqlite|redis [conversations] [warm-up]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from websockets.asyncio.client import connect

from chatserver.cli import main as cli
from chatserver.domain import protocol as p
from tests._processes import free_port, until_healthy
from tests._redis import REDIS_URL, drop_keys
from tests.test_multiworker import SHOP
from tests.test_scaleout import Workers, login

_PARALLEL = 16


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def conversation(url: str, i: int) -> None:
    async with connect(url + "/ws/shopper", additional_headers={"Origin": SHOP}) as ws:
        await ws.send(p.Hello(version=p.PROTOCOL_VERSION).model_dump_json())
        await ws.send(p.SendMessage(client_id=f"m{i}", text=f"Question {i}").model_dump_json())
        await _until(ws, "ack")
        await ws.send(p.EndConversation().model_dump_json())
        await _until(ws, "conversation_closed")


async def _until(ws, kind: str) -> None:  # type: ignore[no-untyped-def]
    while json.loads(await ws.recv())["type"] != kind:
        pass


async def many(url: str, start: int, count: int) -> None:
    async def lane(k: int) -> None:
        for i in range(start + k, start + count, _PARALLEL):
            await conversation(url, i)

    await asyncio.gather(*(lane(k) for k in range(_PARALLEL)))


async def drain(ws) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


async def main(backend: str, count: int, warm: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    workers = Workers(tmp, REDIS_URL)
    proc: subprocess.Popen[bytes] | None = None
    try:
        if backend == "redis":
            await workers.add_agents("alice")
            url, proc = await workers.start()
        else:
            data, port = tmp / "data", free_port()
            add = ["agents", "add", "alice", "--password", "pw", "--data-dir", str(data)]
            assert await asyncio.to_thread(cli, add) == 0
            command = [sys.executable, "-m", "chatserver", "serve", "--port", str(port)]
            command += ["--data-dir", str(data), "--allowed-origins", SHOP]
            command += ["--faq-dir", str(tmp / "no-faq")]
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{port}"
            await until_healthy(url, proc)
        token = await login(url, "alice")
        agent = await connect(url.replace("http", "ws") + "/ws/agent")
        hello = p.Hello(version=p.PROTOCOL_VERSION, token=token)
        await agent.send(hello.model_dump_json())
        await agent.send(p.SetStatus(status="online", capacity=50).model_dump_json())
        reader = asyncio.create_task(drain(agent))
        ws_url = url.replace("http", "ws")
        await many(ws_url, 0, warm)
        await asyncio.sleep(2)
        before = rss_kib(proc.pid)
        await many(ws_url, warm, count)
        await asyncio.sleep(2)
        after = rss_kib(proc.pid)
        print(
            f"{backend}: RSS {before / 1024:.1f} MiB after {warm} conversations, "
            f"{after / 1024:.1f} MiB after {count} more: "
            f"{(after - before) * 1024 / count:.0f} bytes per finished conversation"
        )
        reader.cancel()
        await agent.close()
    finally:
        if backend == "redis":
            await workers.stop()
            await drop_keys(workers.prefix)
        elif proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    numbers = [int(a) for a in sys.argv[2:]]
    asyncio.run(main(kind, *(numbers + [10_000, 2_000][len(numbers) :])))
