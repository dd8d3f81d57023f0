"""The demo shop's order service: what a shop's own system answers the order connector.

A small ASGI app with sample orders in every state, started beside the demo shop (or by tests).
It checks each request's signature and gives an order only with its e-mail or postcode, or to
the customer it belongs to.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.orders.models import Order, OrderItem, OrderList
from chatserver.orders.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

DEMO_SECRET = "demo-order-secret"


def sample_orders(today: date) -> dict[str, tuple[str, str, str, Order]]:
    """Order number -> (customer id, e-mail, postcode, order), in every state."""

    def order(number: str, status: str, items: list[str], days: int, **extra: str) -> Order:
        return Order.model_validate(
            {
                "number": number,
                "status": status,
                "items": [OrderItem(name=name) for name in items],
                "estimated_delivery": today + timedelta(days=days),
                "last_update": datetime.combine(today, datetime.min.time(), UTC),
                **extra,
            }
        )

    dhl = {"carrier": "DHL", "tracking_url": "https://www.dhl.com/track?id=JD0146000123"}
    return {
        "100234": ("cust-1001", "jane@example.com", "SW1A 1AA", order("100234", "shipped", ["Trail running shoes"], 2, **dhl)),
        "100198": ("cust-1001", "jane@example.com", "SW1A 1AA", order("100198", "delivered", ["Rain jacket"], -5, **dhl)),
        "100301": ("cust-1002", "max@example.de", "10115", order("100301", "delayed", ["Camping stove", "Gas cartridge"], 6)),
        "100290": ("cust-1002", "max@example.de", "10115", order("100290", "processing", ["Head torch"], 4)),
        "100150": ("cust-1003", "lea@example.fr", "75001", order("100150", "returned", ["Hiking poles"], -12)),
    }  # fmt: skip


def create_order_service(secret: str = DEMO_SECRET, today: date | None = None) -> Starlette:
    """The demo order service, signed with ``secret``."""
    orders = sample_orders(today or date.today())

    def signed(request: Request) -> bool:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return verify(
            secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            request.method,
            target,
            request.headers.get(SIGNATURE_HEADER, ""),
            time.time(),
        )

    async def one_order(request: Request) -> Response:
        if not signed(request):
            return Response("bad signature", 401)
        found = orders.get(request.path_params["order"])
        email = request.query_params.get("email", "").strip().lower()
        postcode = request.query_params.get("postcode", "").replace(" ", "").upper()
        if found is None or not (
            (email and email == found[1]) or (postcode and postcode == found[2].replace(" ", ""))
        ):
            return Response("no such order", 404)  # the same answer for a wrong e-mail
        return Response(found[3].model_dump_json(), media_type="application/json")

    async def customer_orders(request: Request) -> Response:
        if not signed(request):
            return Response("bad signature", 401)
        mine = [o for c, _, _, o in orders.values() if c == request.path_params["customer"]]
        mine.sort(key=lambda o: o.estimated_delivery or date.min, reverse=True)
        return Response(OrderList(orders=mine).model_dump_json(), media_type="application/json")

    return Starlette(
        routes=[
            Route("/api/chat/orders/{order}", one_order),
            Route("/api/chat/customers/{customer}/orders", customer_orders),
        ]
    )
