"""The Starlette application: routes, lifespan, and the first start of a new shop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.requests import Request
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from chatserver import api
from chatserver.auth import Accounts, Tokens, load_secret, new_password
from chatserver.backends import backend_from_url
from chatserver.backends.base import Backend
from chatserver.clock import Clock, SystemClock
from chatserver.config import Settings
from chatserver.connection import Connection
from chatserver.hub import Hub
from chatserver.routing import Bot, NoBot

log = logging.getLogger("chatserver")
STATIC = Path(__file__).parent / "static"


def backend_for(settings: Settings) -> Backend:
    """The backend the settings ask for: Redis when a URL is set, else the embedded SQLite file."""
    if settings.redis_url:
        return backend_from_url(settings.redis_url)
    return backend_from_url(f"sqlite://{settings.database_path.resolve()}")


async def shopper_socket(websocket: WebSocket) -> None:
    await Connection(websocket, websocket.app.state.hub, "shopper").run()


async def agent_socket(websocket: WebSocket) -> None:
    await Connection(websocket, websocket.app.state.hub, "agent").run()


def page(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return FileResponse(STATIC / name)

    return endpoint


async def first_start(accounts: Accounts, settings: Settings) -> None:
    """On a shop's first start, create an admin agent with a random password and say so."""
    if await accounts.all():
        return
    password = new_password()
    await accounts.add("admin", "Admin", password, role="admin", capacity=settings.default_capacity)
    print(
        "\nFirst start: created agent 'admin' with password "
        f"{password!r}\n(change it with: chatserver agents add admin --password ...)\n",
        flush=True,
    )


def create_app(
    settings: Settings,
    *,
    backend: Backend | None = None,
    clock: Clock | None = None,
    bot: Bot | None = None,
) -> Starlette:
    """Build the app; tests may pass a built backend, a controllable clock or a bot."""
    store = backend or backend_for(settings)
    tokens = Tokens(load_secret(settings.secret_key, settings.data_dir), settings.session_max_age_s)
    hub = Hub(settings, store, tokens, clock or SystemClock(), bot or NoBot())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        await first_start(hub.accounts, settings)
        await hub.start()
        base = settings.base_url
        print(
            f"chatserver for shop {settings.shop_id!r} at {base}\n"
            f"  demo product page: {base}/\n  agent console:     {base}/console\n",
            flush=True,
        )
        try:
            yield
        finally:
            await hub.close()
            await store.close()

    routes = [
        Route("/", page("demo.html")),
        Route("/console", page("console.html")),
        Route("/api/login", api.login, methods=["POST"]),
        Route("/api/health", api.health),
        WebSocketRoute("/ws/shopper", shopper_socket),
        WebSocketRoute("/ws/agent", agent_socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.hub = hub
    app.state.settings = settings
    return app
