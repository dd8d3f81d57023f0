"""The baseline: a bare relay written with the ``websockets`` library alone.

No validation, no storage, no routing: shopper ``i`` is paired with agent ``i % agents``; what a
shopper sends goes to its agent as ``i|text``, and what an agent sends as ``i|text`` goes back to
shopper ``i`` as ``text``. It is the ceiling the hub is measured against (``chatserver bench
--baseline``). Run as ``python -m chatserver.bench.bare_relay --port P --agents A``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chatserver.bench._system import raise_open_files


class BareRelay:
    """Who is connected, by index, and the two forwarding loops."""

    def __init__(self, agents: int) -> None:
        self.agent_count = agents
        self.agents: dict[int, ServerConnection] = {}
        self.shoppers: dict[int, ServerConnection] = {}

    async def handler(self, websocket: ServerConnection) -> None:
        path = websocket.request.path if websocket.request else ""
        role, _, number = path.strip("/").partition("/")
        if role == "visit":
            with contextlib.suppress(ConnectionClosed):
                await websocket.send(str(await websocket.recv()))
                await websocket.wait_closed()
            return
        if not number.isdigit() or role not in ("shopper", "agent"):
            await websocket.close(1008, "connect to /shopper/N or /agent/N")
            return
        index = int(number)
        table = self.shoppers if role == "shopper" else self.agents
        table[index] = websocket
        try:
            if role == "shopper":
                await self._from_shopper(index, websocket)
            else:
                await self._from_agent(websocket)
        except ConnectionClosed:
            pass
        finally:
            if table.get(index) is websocket:
                del table[index]

    async def _from_shopper(self, index: int, websocket: ServerConnection) -> None:
        prefix = f"{index}|"
        async for message in websocket:
            agent = self.agents.get(index % self.agent_count)
            if agent is not None:
                await agent.send(prefix + str(message))

    async def _from_agent(self, websocket: ServerConnection) -> None:
        async for message in websocket:
            number, _, text = str(message).partition("|")
            shopper = self.shoppers.get(int(number)) if number.isdigit() else None
            if shopper is not None:
                await shopper.send(text)


async def run(host: str, port: int, agents: int) -> None:
    relay = BareRelay(agents)
    stop = asyncio.get_running_loop().create_future()

    def finish() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, finish)
    # Deflate off, as on the hub; the library's defaults otherwise.
    async with serve(relay.handler, host, port, compression=None, max_size=65536):
        print(f"bare relay on ws://{host}:{port}", flush=True)
        await stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--agents", type=int, required=True)
    args = parser.parse_args(argv)
    raise_open_files()
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        asyncio.run(run(args.host, args.port, args.agents))
    else:
        uvloop.run(run(args.host, args.port, args.agents))


if __name__ == "__main__":
    main()
