"""The demo shop's extras: its order service mounted at ``/demo-orders``, and its demo customer
signed for the demo page's "log in as demo customer" switch (the demo only: a real shop signs
its customers on its own server)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from chatserver.core.identity import DEMO_IDENTITY_SECRET, customer_hash
from chatserver.domain.settings import Settings
from chatserver.orders.answers import DEMO_ORDERS_PATH
from chatserver.orders.demo_service import create_order_service

DEMO_CUSTOMER = {"id": "cust-1001", "name": "Jane Doe", "email": "jane@example.com"}
"""The demo page's customer: orders 100234 (shipped) and 100198 (delivered) are hers."""

DEMO_LOGIN_S = 3600
"""How long the demo page's signed customer is valid."""


def demo_routes(settings: Settings) -> list[BaseRoute]:
    """The demo's routes while demo data is on (none once the shop has its own)."""
    routes: list[BaseRoute] = []
    if settings.demo_data and not settings.orders_url:
        routes.append(Mount(DEMO_ORDERS_PATH, app=create_order_service()))
    if settings.demo_data:
        routes.append(Route("/api/demo/customer", demo_customer))
    return routes


async def demo_customer(request: Request) -> Response:
    """The demo customer with an expiry and the demo secret's signature, as a shop's page has them."""
    hub = request.app.state.hub
    if hub.settings.identity_secret:  # the shop has its own secret now: it signs its customers
        return JSONResponse({"error": "the shop signs its own customers"}, 404)
    clock = hub.clock
    expires = int(clock.now()) + DEMO_LOGIN_S
    signed = customer_hash(DEMO_IDENTITY_SECRET, DEMO_CUSTOMER["id"], expires)
    locale = request.query_params.get("locale", "")[:35]
    return JSONResponse({**DEMO_CUSTOMER, "locale": locale, "expires": expires, "hash": signed})
