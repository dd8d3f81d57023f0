"""Run the app under uvicorn with the settings we measured best for many sockets."""

from __future__ import annotations

import asyncio
import os
import sys

import uvicorn

from chatserver.domain.settings import Settings
from chatserver.web.app import SETTINGS_ENV, create_app, prepare_shared, tune_gc


def uvicorn_config(settings: Settings) -> dict[str, object]:
    """uvicorn options: sans-I/O websockets and no per-message deflate (measured: more headroom, less memory per socket)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        # Frames over the limit but under this get a clear error frame; larger ones close (1009).
        "ws_max_size": max(65536, settings.max_frame_bytes * 4),
        # Idle connections, and requests whose headers do not finish, close after this long.
        "http": "chatserver.web.limits:HeaderDeadline",
        "timeout_keep_alive": settings.http_timeout_s,
        "h11_max_incomplete_event_size": 16384,
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
    if settings.workers > 1:
        # Each worker process builds its own app (import string + factory); they share Redis.
        asyncio.run(prepare_shared(settings))
        os.environ[SETTINGS_ENV] = settings.model_dump_json()
        uvicorn.run(
            "chatserver.web.app:app_from_environment",
            factory=True,
            workers=settings.workers,
            **uvicorn_config(settings),  # type: ignore[arg-type]
        )
        return 0
    app = create_app(settings)
    tune_gc()
    uvicorn.Server(uvicorn.Config(app, **uvicorn_config(settings))).run()  # type: ignore[arg-type]
    return 0
