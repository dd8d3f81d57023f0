"""The hook the shop's order lookup plugs into, as the bot's answers need it.

The hub knows nothing of HTTP: it asks an :class:`OrderLookup` (the order connector's, in
``chatserver.orders.answers``) and gets the text to say and the orders for agents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from chatserver.domain.protocol import OrderCard

Outcome = Literal["found", "not_found", "unavailable"]


@dataclass(frozen=True)
class OrderAnswer:
    """What a lookup says to the shopper (``text``) and shows agents (``cards``)."""

    outcome: Outcome
    text: str
    cards: list[OrderCard] = field(default_factory=list)


class OrderLookup(Protocol):
    """Looks orders up at the shop and words the answer in the shopper's language."""

    def asks_about_orders(self, faq_id: str | None) -> bool:
        """Whether the FAQ entry ``faq_id`` is an order-status or tracking question."""
        ...

    def knows_customers(self) -> bool:
        """Whether the shop's endpoint lists a customer's orders (else customers are asked too)."""
        ...

    def names_order(self, text: str) -> bool:
        """Whether ``text`` holds an order number with an e-mail address or postcode."""
        ...

    def ask(self, lang: str) -> str:
        """The request for an order number and its e-mail or postcode."""
        ...

    async def of_customer(self, customer_id: str, lang: str) -> OrderAnswer:
        """A verified customer's recent orders."""
        ...

    async def in_message(self, text: str, lang: str) -> OrderAnswer | None:
        """The order a message names with its e-mail or postcode; None if it names none."""
        ...

    async def close(self) -> None: ...
