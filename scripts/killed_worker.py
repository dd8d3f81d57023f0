"""Two workers on one Redis, one SIGKILLed mid-burst: print what was acknowledged, lost,
duplicated, stored but never delivered to a connected client, requeued, and who is online.

    PYTHONPATH=. python3 scripts/killed_worker.py [shoppers] [messages each]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._redis import REDIS_URL, drop_keys
from tests.test_multiworker import SHOP
from tests.test_scaleout import Workers, console, login


class Shopper:
    """A widget: sends with retries, reconnects to the other worker with its last seq."""

    def __init__(self, name: str, urls: list[str]) -> None:
        self.name, self.urls = name, urls
        self.token: str | None = None
        self.conversation: str | None = None
        self.seqs: set[int] = set()
        self.acked: dict[str, int] = {}
        self.finish = asyncio.Event()  # stay connected until the run is measured

    async def run(self, messages: int, at: int) -> None:
        sent = 0
        while sent < messages or not self.finish.is_set():
            url = self.urls[at % len(self.urls)].replace("http", "ws") + "/ws/shopper"
            try:
                async with connect(url, additional_headers={"Origin": SHOP}) as ws:
                    last = max(self.seqs, default=0)
                    hello = p.Hello(version=p.PROTOCOL_VERSION, token=self.token, last_seq=last)
                    await ws.send(hello.model_dump_json())
                    reader = asyncio.create_task(self._read(ws))
                    while sent < messages:
                        client_id = f"{self.name}-{sent}"
                        frame = p.SendMessage(client_id=client_id, text=f"{client_id} text")
                        await ws.send(frame.model_dump_json())
                        for _ in range(100):
                            if client_id in self.acked or reader.done():
                                break
                            await asyncio.sleep(0.02)
                        if client_id not in self.acked:
                            break
                        sent += 1
                    if sent == messages:
                        await asyncio.wait(
                            [reader, asyncio.create_task(self.finish.wait())],
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    reader.cancel()
            except (ConnectionClosed, OSError):
                pass
            at += 1

    async def _read(self, ws) -> None:  # type: ignore[no-untyped-def]
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "welcome":
                self.token = frame["token"] or self.token
            if frame.get("conversation_id") and frame.get("seq"):
                self.conversation = frame["conversation_id"]
                self.seqs.add(frame["seq"])
            if frame["type"] == "ack":
                self.acked[frame["client_id"]] = frame["seq"]


async def main(shoppers: int, messages: int) -> None:
    workers = Workers(Path(tempfile.mkdtemp()), REDIS_URL)
    await workers.add_agents("alice", "bob")
    try:
        (url_a, proc_a), (url_b, _) = await workers.start(), await workers.start()
        agents = []
        for name, url in (("alice", url_a), ("bob", url_b)):
            agent = await console(url, await login(url, name))
            await agent.send(p.SetStatus(status="online", capacity=shoppers))
            agents.append(agent)
        crowd = [Shopper(f"s{i}", [url_a, url_b]) for i in range(shoppers)]
        burst = [asyncio.create_task(s.run(messages, i)) for i, s in enumerate(crowd)]
        await asyncio.sleep(1.5)
        store = RedisStore(REDIS_URL, prefix=workers.prefix)
        alice_chats = (await store.router.held()).get("alice", [])
        proc_a.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        requeued_after = None
        while time.monotonic() - killed < 60:
            held = await store.router.held()
            if alice_chats and not held.get("alice") and requeued_after is None:
                requeued_after = time.monotonic() - killed
            if all(len(s.acked) == messages for s in crowd) and (requeued_after or not alice_chats):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # the last events reach the connected shoppers
        for s in crowd:
            s.finish.set()
        await asyncio.gather(*burst, return_exceptions=True)
        acked = lost = duplicated = undelivered = 0
        for s in crowd:
            log = await store.log.read(s.conversation) if s.conversation else []
            texts = [json.loads(text).get("client_id") for _, text in log]
            acked += len(s.acked)
            lost += sum(1 for c in s.acked if c not in texts)
            duplicated += sum(texts.count(c) - 1 for c in s.acked if texts.count(c) > 1)
            undelivered += sum(1 for seq, _ in log if seq not in s.seqs)
        online = [a.agent_id for a in await store.router.presence() if a.status == "online"]
        held = await store.router.held()
        print(f"shoppers {shoppers} x {messages} messages; worker A killed at 1.5 s")
        print(f"acknowledged {acked}, lost {lost}, duplicated {duplicated}")
        print(f"stored but never delivered to the (reconnected) shopper: {undelivered}")
        print(f"alice's chats when A died: {len(alice_chats)}; requeued after: {requeued_after}")
        print(f"now held: { {a: len(c) for a, c in held.items()} }; agents online: {online}")
        await store.close()
        for agent in agents:
            with contextlib.suppress(Exception):
                await agent.close()
    finally:
        await workers.stop()
        await drop_keys(workers.prefix)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args or [20, 40])))
