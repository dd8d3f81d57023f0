"""Run the app under uvicorn with the settings we measured best for many sockets."""

from __future__ import annotations

import sys

import uvicorn

from chatserver.app import create_app
from chatserver.config import Settings


def uvicorn_config(settings: Settings) -> dict[str, object]:
    """uvicorn options: sans-I/O websockets and no per-message deflate (see DESIGN.md figures)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        # Frames over the limit but under this get a clear error frame; larger ones close (1009).
        "ws_max_size": max(65536, settings.max_frame_bytes * 4),
        "log_level": settings.log_level,
        "lifespan": "on",
    }


def serve(settings: Settings) -> int:
    """Serve until interrupted; returns the exit code."""
    if settings.workers > 1 and not settings.redis_url:
        print(
            "chatserver: --workers above 1 needs --redis-url: the embedded backend keeps the queue "
            "and live sockets in one process, so other workers could not see them.",
            file=sys.stderr,
        )
        return 2
    uvicorn.Server(uvicorn.Config(create_app(settings), **uvicorn_config(settings))).run()  # type: ignore[arg-type]
    return 0
