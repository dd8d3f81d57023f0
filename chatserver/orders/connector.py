"""The order connector: asks the shop's own endpoint about orders, and never makes the hub wait.

Every request is signed (HMAC-SHA256, see :mod:`.signing`), times out after ``timeout_s``, is
retried once on a network error or a 5xx, and goes through a circuit breaker: after
``trip_after`` failures in a row the connector answers ``unavailable`` at once for ``cool_off_s``,
then lets one request through to see whether the shop's system is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic import ValidationError

from chatserver.orders.models import Lookup, Order, OrderList
from chatserver.orders.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

log = logging.getLogger("chatserver.orders")


class CircuitBreaker:
    """Counts failures in a row; open (refusing) for ``cool_off_s`` after ``trip_after`` of them."""

    def __init__(
        self, trip_after: int, cool_off_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.trip_after, self.cool_off_s, self._clock = trip_after, cool_off_s, clock
        self.failures = 0
        self._open_until = 0.0

    def allows(self) -> bool:
        """True when a request may go (closed, or half-open after the cool-off)."""
        return self.failures < self.trip_after or self._clock() >= self._open_until

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.trip_after:
            self._open_until = self._clock() + self.cool_off_s


class OrderConnector:
    """Looks orders up at the shop's endpoint.

    Args:
        order_url: template with ``{order}``, e.g. ``https://shop.example/api/chat/orders/{order}``.
        customer_url: template with ``{customer}`` for an identified customer's recent orders.
        secret: the shop's secret that signs every request.
        timeout_s: the most one request may take.
        transport: for tests that need a transport of their own (httpx's default otherwise).
    """

    def __init__(
        self,
        order_url: str,
        customer_url: str,
        secret: str,
        *,
        timeout_s: float = 2.0,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.order_url, self.customer_url, self._secret = order_url, customer_url, secret
        self.breaker = breaker or CircuitBreaker(trip_after=5, cool_off_s=30.0)
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def order(self, number: str, *, email: str = "", postcode: str = "") -> Lookup:
        """One order, only if the shop confirms it belongs to this e-mail or postcode."""
        if not (email or postcode):
            return Lookup(outcome="not_found")
        proof = {k: v for k, v in (("email", email), ("postcode", postcode)) if v}
        url = self.order_url.format(order=quote(number, safe="")) + "?" + urlencode(proof)
        return await self._get(url, lambda body: [Order.model_validate_json(body)])

    async def recent(self, customer_id: str) -> Lookup:
        """An identified customer's recent orders, newest first."""
        url = self.customer_url.format(customer=quote(customer_id, safe=""))
        return await self._get(url, lambda body: OrderList.model_validate_json(body).orders)

    async def _get(self, url: str, parse: Callable[[bytes], list[Order]]) -> Lookup:
        if not self.breaker.allows():
            return Lookup(outcome="unavailable")
        for attempt in (1, 2):
            try:
                response = await self._client.get(url, headers=self._signed(url))
            except httpx.HTTPError as exc:
                log.warning("order endpoint: %s (attempt %d)", exc, attempt)
                continue
            if response.status_code >= 500:
                log.warning(
                    "order endpoint answered %d (attempt %d)", response.status_code, attempt
                )
                continue
            self.breaker.succeeded()
            if response.status_code != 200:
                return Lookup(outcome="not_found")
            try:
                return Lookup(outcome="found", orders=parse(response.content))
            except ValidationError as exc:
                log.warning("order endpoint sent a document we cannot read: %s", exc)
                return Lookup(outcome="unavailable")
        self.breaker.failed()
        return Lookup(outcome="unavailable")

    def _signed(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        timestamp = str(int(time.time()))
        return {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, "GET", target),
        }
