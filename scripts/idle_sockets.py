"""Server memory per idle shopper socket, and where a page view's bytes go.

``rss`` (default): start ``chatserver serve`` (embedded store) as its own process, read its RSS,
open N shopper sockets that each say hello (half with a token from an earlier visit) and stay
open, read the RSS again: KiB per idle socket. ``visits``: run the app in this process and
diff tracemalloc snapshots around V page views (connect, hello with/without a stored token,
close), after a warm-up: the allocations that stay, by line.

    PYTHONPATH=. python3 scripts/idle_sockets.py rss [sockets=10000]
    PYTHONPATH=. python3 scripts/idle_sockets.py churn [visits=10000]  (RSS growth per visit)
    PYTHONPATH=. python3 scripts/idle_sockets.py visits [visits=3000]
    PYTHONPATH=. python3 scripts/idle_sockets.py held [sockets=3000]  (what an open one keeps)

``HELLO_S`` sets the server's hello timeout in ``rss`` and ``churn`` (default 300, as the bench).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path

import uvicorn

from chatserver.bench import _wsclient as ws
from chatserver.bench._system import free_port, raise_open_files
from chatserver.cli.serve import uvicorn_config
from chatserver.domain import protocol as p
from chatserver.domain.settings import Settings
from chatserver.web.app import create_app

HOST = "127.0.0.1"
_PARALLEL = 64


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def server_options(port: int, tmp: Path) -> list[str]:
    return [
        *("--host", HOST, "--port", str(port), "--data-dir", str(tmp / "data")),
        *("--secret-key", "idle-sockets", "--log-level", "warning"),
        *(
            "--max-sockets-per-address",
            "1000000",
            "--hello-timeout-s",
            os.environ.get("HELLO_S", "300"),
        ),
        *("--rate-limit-per-s", "1000000", "--rate-limit-burst", "1000000"),
        *("--faq-dir", str(tmp / "no-faq")),
    ]


async def open_shopper(port: int, token: str | None) -> tuple[ws.WsClient, str]:
    """A socket that said hello and was answered (welcome and availability)."""
    got: list[dict[str, object]] = []
    answered = asyncio.get_running_loop().create_future()

    def on_text(text: str) -> None:
        got.append(json.loads(text))
        if len(got) >= 2 and not answered.done():
            answered.set_result(None)

    client = await ws.connect(HOST, port, "/ws/shopper", on_text, f"http://{HOST}:{port}", 30)
    client.send_text(p.Hello(version=p.PROTOCOL_VERSION, token=token).model_dump_json())
    await asyncio.wait_for(answered, 30)
    welcome = next(frame for frame in got if frame["type"] == "welcome")
    return client, str(welcome["token"])


async def _page_views(port: int, count: int, tokens: list[str]) -> None:
    async def lane(k: int) -> None:
        for i in range(k, count, 16):
            client, _ = await open_shopper(port, tokens[i % len(tokens)] if i % 2 else None)
            client.close()
            await client.closed

    await asyncio.gather(*(lane(k) for k in range(16)))


async def rss_per_socket(count: int, visits_only: bool = False) -> None:
    raise_open_files(count * 2 + 1024)
    with tempfile.TemporaryDirectory(prefix="idle-sockets-") as tmp:
        port = free_port(HOST)
        options = server_options(port, Path(tmp))
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatserver", "serve", *options
        )
        try:
            for _ in range(300):
                await asyncio.sleep(0.1)
                try:
                    client, _ = await open_shopper(port, None)
                    client.close()
                    break
                except OSError:
                    continue
            clients: list[ws.WsClient] = []
            tokens: list[str] = []
            for _ in range(50):  # warm-up: the first sockets pay for imports and caches
                client, token = await open_shopper(port, None)
                client.close()
                tokens.append(token)
            if visits_only:
                await _page_views(port, 3000, tokens)  # warm-up: caches and arenas settle
            await asyncio.sleep(1)
            before = rss_kib(server.pid)

            async def lane(k: int) -> None:
                for i in range(k, count, _PARALLEL):
                    token = tokens[i % len(tokens)] if i % 2 else None
                    client, _ = await open_shopper(port, token)
                    clients.append(client)

            if visits_only:
                await _page_views(port, count, tokens)
            else:
                await asyncio.gather(*(lane(k) for k in range(_PARALLEL)))
            await asyncio.sleep(3)
            after = rss_kib(server.pid)
            if visits_only:
                print(
                    f"{count} page views: server RSS {before} -> {after} KiB, "
                    f"{(after - before) * 1024 / count:.0f} bytes per visit"
                )
                return
            print(
                f"{count} idle shopper sockets: server RSS {before / 1024:.1f} -> "
                f"{after / 1024:.1f} MiB, {(after - before) / count:.1f} KiB per socket"
            )
            for client in clients:
                client.abort()
        finally:
            server.terminate()
            await server.wait()


async def visits(count: int, mode: str) -> None:
    with tempfile.TemporaryDirectory(prefix="idle-sockets-") as tmp:
        port = free_port(HOST)
        settings = Settings(
            host=HOST,
            port=port,
            data_dir=Path(tmp) / "data",
            secret_key="idle-sockets",
            faq_dir=Path(tmp) / "no-faq",
            max_sockets_per_address=1_000_000,
            hello_timeout_s=300,
            rate_limit_per_s=1_000_000,
            rate_limit_burst=1_000_000,
        )
        config = uvicorn.Config(
            create_app(settings), **{**uvicorn_config(settings), "log_level": "warning"}
        )  # type: ignore[arg-type]
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.05)

        async def page_views(n: int) -> None:
            async def lane(k: int) -> None:
                token: str | None = None
                for i in range(k, n, 16):
                    client, kept = await open_shopper(port, token if i % 2 else None)
                    token = token or kept
                    client.close()
                    await client.closed

            await asyncio.gather(*(lane(k) for k in range(16)))
            await asyncio.sleep(0.5)
            gc.collect()

        async def held(n: int) -> None:
            async def lane(k: int) -> None:
                for _ in range(k, n, 16):
                    keep.append((await open_shopper(port, None))[0])

            await asyncio.gather(*(lane(k) for k in range(16)))
            await asyncio.sleep(0.5)
            gc.collect()

        keep: list[ws.WsClient] = []
        await page_views(500)
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        await (page_views(count) if mode == "visits" else held(count))
        after = tracemalloc.take_snapshot()
        # The clients' side (their sockets, the frames they parsed) runs in this process too:
        # left out wherever it appears in a trace's frames, so what is left is the server's.
        exclude = [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, ws.__file__, all_frames=True),
            tracemalloc.Filter(False, __file__, all_frames=True),
        ]
        diff = after.filter_traces(exclude).compare_to(before.filter_traces(exclude), "lineno")
        kept = sum(stat.size_diff for stat in diff)
        what = "page views" if mode == "visits" else "open sockets"
        print(f"{count} {what}: {kept} bytes kept, {kept / count:.0f} each; top lines:")
        for stat in diff[:25]:
            print(f"  {stat.size_diff:+8d} B {stat.count_diff:+6d}  {stat.traceback[0]}")
        for client in keep:
            client.abort()
        server.should_exit = True
        await serving


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "rss"
    number = int(sys.argv[2]) if len(sys.argv) > 2 else (10_000 if mode == "rss" else 3_000)
    if mode in ("rss", "churn"):
        asyncio.run(rss_per_socket(number, visits_only=mode == "churn"))
    else:
        asyncio.run(visits(number, mode))
