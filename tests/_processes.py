"""Helpers for tests that run the server as a real process."""

from __future__ import annotations

import asyncio
import subprocess

import httpx

from chatserver.bench._system import free_port

__all__ = ["free_port", "until_healthy"]


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
