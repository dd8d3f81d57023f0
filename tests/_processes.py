"""Helpers for tests that run the server as a real process."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import httpx


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the server at ``url`` answers its health check (fails if the process exits)."""
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            assert proc.poll() is None, "server exited"
            try:
                if (await http.get(url + "/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not start")
