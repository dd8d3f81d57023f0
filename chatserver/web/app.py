"""The Starlette application: routes, lifespan, and the first start of a new shop."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from chatserver.core.attachments import Attachments
from chatserver.core.auth import Accounts, Tokens, load_secret, new_password
from chatserver.core.hub import Hub
from chatserver.core.shop_config import LiveBot, LiveShop
from chatserver.domain.bot import Bot
from chatserver.domain.clock import Clock, SystemClock
from chatserver.domain.languages import LanguageRules
from chatserver.domain.playbook import DOCUMENT as PLAYBOOK
from chatserver.domain.playbook import parse_playbook
from chatserver.domain.settings import Settings
from chatserver.faq import shop_docs
from chatserver.orders.answers import ShopOrders
from chatserver.store import store_for
from chatserver.store.base import Store
from chatserver.web import (
    admin_integrations,
    admin_routes,
    inbox_api,
    notices_api,
    playbook_api,
    playbook_reports,
    reports_api,
    review_api,
)
from chatserver.web import auth_api as api
from chatserver.web.admin_common import MAX_BODY as ADMIN_MAX_BODY
from chatserver.web.assets import asset_middleware, asset_routes
from chatserver.web.connection import Sockets, quiet_client_mistakes
from chatserver.web.demo_api import demo_routes
from chatserver.web.files_api import file_routes
from chatserver.web.guard import AddressCap, Patrol
from chatserver.web.limits import BodyLimit, LoginThrottle

log = logging.getLogger("chatserver")

UPLOAD_PATH = re.compile(r"/api/conversations/[^/]+/files")
"""Where attachments are posted: the endpoint caps those bodies at ``max_file_bytes`` itself."""
ADMIN_PATH = re.compile(r"/api/admin/")


SETTINGS_ENV = "CHATSERVER_SETTINGS"
"""Settings as JSON, handed by ``chatserver serve --workers N`` to its worker processes."""


def app_from_environment() -> Starlette:
    """The app of one worker process, for uvicorn's ``factory=True`` (``--workers`` above 1).

    Settings come from ``$CHATSERVER_SETTINGS`` (JSON) when the serve command set it, else from
    ``CHAT_*`` variables.
    """
    raw = os.environ.get(SETTINGS_ENV)
    app = create_app(Settings(**json.loads(raw)) if raw else Settings())
    tune_gc()
    return app


GC_THRESHOLDS = (20_000, 20, 10)
"""The collector's thresholds in a server process (CPython's default: 700, 10, 10)."""


def tune_gc() -> None:
    """Set the cyclic garbage collector for a server process, once its app is built.

    What exists by now (modules, models, the app) lives as long as the process: frozen, no
    collection walks it again. The young generation's threshold is raised: a busy loop makes
    many short-lived containers, and each collection also walks every live socket's objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def prepare_shared(settings: Settings) -> None:
    """Before workers start: make the signing key file and the first agent once, not per worker."""
    load_secret(settings.secret_key, settings.data_dir)
    store = store_for(settings)
    await store.start()
    try:
        await first_start(Accounts(store.accounts), settings)
    finally:
        await store.close()


SOCKET_PATHS: dict[str, Literal["shopper", "agent"]] = {
    "/ws/shopper": "shopper",
    "/ws/agent": "agent",
}
"""The chat's sockets, served on raw ASGI by ``connection.Sockets`` ahead of the routes."""


class ChatApp(Starlette):
    """The Starlette app, except that chat sockets go straight to their connection: no
    middleware or routing frames stay on the stack of every open socket."""

    sockets: Sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        role = self.sockets.role(scope)
        if role is None:
            await super().__call__(scope, receive, send)
        else:
            await self.sockets.connection(scope, receive, send, role).run()


async def first_start(accounts: Accounts, settings: Settings) -> None:
    """On a shop's first start, create an admin agent with a random password and say so."""
    if await accounts.all():
        return
    password = new_password()
    await accounts.add("admin", "Admin", password, role="admin", capacity=settings.default_capacity)
    print(
        "\nFirst start: created agent 'admin' with password "
        f"{password!r}\n(change it on /admin, or with: chatserver agents passwd admin)\n",
        flush=True,
    )


def follow_shop(hub: Hub, live: LiveShop) -> None:
    """Apply a changed configuration to the parts that keep their own copy."""
    hub.assigner.target_s = hub.settings.response_target_s
    if live.shop is not None:
        hub.assigner.language_rules = LanguageRules(
            live.shop.languages[0], live.shop.language_wait_s
        )
    hub.chats.canned = live.canned
    hub.chats.playbook = parse_playbook(live.documents.get(PLAYBOOK))


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    bot: Bot | None = None,
) -> Starlette:
    """Build the app; tests may pass a built store, a controllable clock or a bot."""
    store = store or store_for(settings)
    clock = clock or SystemClock()
    secret = load_secret(settings.secret_key, settings.data_dir)
    tokens = Tokens(secret, settings.session_max_age_s, clock)
    live = LiveShop(
        settings, store, playbook_api.build, shop_docs.read_dir(settings.faq_dir), clock
    )
    hub = Hub(settings, store, tokens, clock, bot or LiveBot(live), ShopOrders(settings))
    live.on_change.append(lambda shop: follow_shop(hub, shop))
    live.on_change.append(admin_integrations.FollowIntegrations(settings))
    patrol = Patrol(settings, clock)
    sockets = AddressCap(settings.max_sockets_per_address)
    tone = playbook_api.ToneInUse()
    live.on_change.append(tone.follow)
    hub.chats.tone_check = tone.flagged

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        quiet_client_mistakes()
        await store.start()
        await first_start(hub.accounts, settings)
        await live.start()
        await hub.start()
        base = settings.base_url
        email = (
            f"via {settings.smtp_host}:{settings.smtp_port}"
            if settings.smtp_host
            else "off (no smtp_host): offline messages wait in the console's inbox"
        )
        print(
            f"chatserver for shop {settings.shop_id!r} at {base}\n"
            f"  demo product page: {base}/\n  agent console:     {base}/console\n"
            f"  e-mail:            {email}\n",
            flush=True,
        )
        if not settings.metrics_token:
            log.warning(
                "/metrics is open to anyone who reaches this port: set CHAT_METRICS_TOKEN "
                "(--metrics-token) to ask for a bearer token"
            )
        try:
            yield
        finally:
            await patrol.close()
            await hub.close()
            await live.close()
            await store.close()

    routes = [
        *admin_routes.routes(),
        *admin_integrations.routes(),
        *asset_routes(),
        Route("/api/login", api.login, methods=["POST"]),
        Route("/api/invite", api.accept_invite, methods=["POST"]),
        Route("/api/health", api.health),
        Route("/api/playbook/tone", playbook_api.tone_rules),
        Route("/api/playbook/closings", playbook_api.closings),
        *review_api.routes(),
        *playbook_reports.routes(),
        Route("/api/reports", reports_api.report),
        Route("/api/reports/live", reports_api.live_state),
        Route("/api/reports/insight", reports_api.insight),
        Route("/api/reports/{table}.csv", reports_api.table_csv),
        Route("/metrics", reports_api.metrics),
        Route("/api/inbox", inbox_api.inbox),
        Route("/api/inbox/{conversation_id}/reply", inbox_api.reply, methods=["POST"]),
        Route("/api/history", inbox_api.history),
        Route("/api/notices", notices_api.post_notice, methods=["POST"]),
        Route("/api/notices/choices", notices_api.get_choices),
        Route("/api/conversations/{conversation_id}", inbox_api.conversation),
        *file_routes(),
        *demo_routes(settings),
    ]
    body_limit = Middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        uploads=UPLOAD_PATH,
        larger=((ADMIN_PATH, ADMIN_MAX_BODY),),
    )
    middleware = [body_limit, *asset_middleware()]
    app = ChatApp(routes=routes, middleware=middleware, lifespan=lifespan)
    app.sockets = Sockets(hub, patrol, sockets, SOCKET_PATHS)
    app.state.hub = hub
    app.state.live = live
    app.state.tone = tone
    app.state.settings = settings
    app.state.sockets = sockets
    app.state.patrol = patrol
    app.state.login_throttle = LoginThrottle(
        settings.login_attempts, settings.login_window_s, clock
    )
    app.state.attachments = Attachments(settings, hub.journal, tokens, hub.accounts, hub.metrics)
    return app
