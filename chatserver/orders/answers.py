"""The order lookup the bot uses: the connector's results worded in the shopper's language."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from chatserver.domain.order_lookup import OrderAnswer
from chatserver.domain.protocol import OrderCard
from chatserver.domain.settings import Settings
from chatserver.orders.connector import OrderConnector
from chatserver.orders.demo_service import DEMO_SECRET
from chatserver.orders.models import Lookup, Order
from chatserver.orders.reference import find_reference
from chatserver.orders.texts import describe, texts_for

ORDER_QUESTIONS = frozenset({"order-status", "order-tracking", "shipping-delay"})
"""The FAQ entries ("where is my order", tracking, a late delivery) answered with real data."""

DEMO_ORDERS_PATH = "/demo-orders"
"""Where the demo order service is mounted on the demo shop's own server."""

RECENT = 3
"""How many of a customer's orders the bot tells."""


def connector_for(settings: Settings) -> OrderConnector | None:
    """The shop's connector from the settings; the demo service's while demo data is on."""
    if settings.orders_url:
        return OrderConnector(
            settings.orders_url,
            settings.orders_customer_url,
            settings.orders_secret,
            timeout_s=settings.orders_timeout_s,
        )
    if settings.demo_data:
        base = settings.base_url + DEMO_ORDERS_PATH
        return OrderConnector(
            base + "/api/chat/orders/{order}",
            base + "/api/chat/customers/{customer}/orders",
            DEMO_SECRET,
            timeout_s=settings.orders_timeout_s,
        )
    return None


def card(order: Order) -> OrderCard:
    """An order as agents see it beside the chat."""
    return OrderCard(
        number=order.number,
        status=order.status,
        items=[
            item.name if item.quantity == 1 else f"{item.quantity} × {item.name}"
            for item in order.items
        ],
        carrier=order.carrier,
        tracking_url=order.tracking_url,
        estimated_delivery=order.estimated_delivery.isoformat() if order.estimated_delivery else "",
    )


class ShopOrders:
    """Looks orders up through the connector the settings name: made when first needed (the
    demo's address is known by then), and made again when /admin changes its settings."""

    def __init__(self, settings: Settings) -> None:
        # httpx logs every request at INFO with its query, the shopper's e-mail or postcode:
        # keep that out of the server's log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.settings = settings
        self._connector: OrderConnector | None = None
        self._made_from: tuple[object, ...] = ()
        self._closing: set[asyncio.Task[None]] = set()

    def connector(self) -> OrderConnector | None:
        s = self.settings
        wanted = (
            s.orders_url,
            s.orders_customer_url,
            s.orders_secret,
            s.orders_timeout_s,
            s.base_url,
        )
        if self._connector is None or wanted != self._made_from:
            old = self._connector
            self._connector, self._made_from = connector_for(s), wanted
            if old is not None:  # its requests in flight finish; then it closes
                task = asyncio.get_running_loop().create_task(old.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return self._connector

    async def close(self) -> None:
        if self._connector is not None:
            await self._connector.close()
        await asyncio.gather(*self._closing, return_exceptions=True)

    def asks_about_orders(self, faq_id: str | None) -> bool:
        return faq_id in ORDER_QUESTIONS and self.connector() is not None

    def knows_customers(self) -> bool:
        connector = self.connector()
        return connector is not None and bool(connector.customer_url)

    def names_order(self, text: str) -> bool:
        return self.connector() is not None and find_reference(text) is not None

    def ask(self, lang: str) -> str:
        return texts_for(lang).ask

    async def of_customer(self, customer_id: str, lang: str) -> OrderAnswer:
        connector = self.connector()
        if connector is None:
            return self._answer(Lookup(outcome="unavailable"), lang)
        found = await self._bounded(connector, connector.recent(customer_id))
        if found.outcome == "found":
            found = found.model_copy(update={"orders": found.orders[:RECENT]})
        return self._answer(found, lang)

    async def in_message(self, text: str, lang: str) -> OrderAnswer | None:
        connector = self.connector()
        reference = find_reference(text)
        if connector is None or reference is None:
            return None
        lookup = connector.order(
            reference.number, email=reference.email, postcode=reference.postcode
        )
        return self._answer(await self._bounded(connector, lookup), lang)

    async def _bounded(self, connector: OrderConnector, lookup: Awaitable[Lookup]) -> Lookup:
        """The lookup within ``orders_timeout_s`` in all: the connector's retry after a fast
        failure fits, a second slow attempt does not (the shopper is waiting)."""
        try:
            return await asyncio.wait_for(lookup, self.settings.orders_timeout_s)
        except TimeoutError:
            connector.breaker.failed()
            return Lookup(outcome="unavailable")

    def _answer(self, found: Lookup, lang: str) -> OrderAnswer:
        texts = texts_for(lang)
        match found.outcome:
            case "found":
                return OrderAnswer(
                    "found", describe(found.orders, lang), [card(o) for o in found.orders]
                )
            case "not_found":
                return OrderAnswer("not_found", texts.not_found)
        return OrderAnswer("unavailable", texts.unavailable)
