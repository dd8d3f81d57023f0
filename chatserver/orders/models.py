"""An order as the shop's endpoint describes it, and what a lookup found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

OrderStatus = Literal["processing", "shipped", "delayed", "delivered", "returned", "cancelled"]


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(max_length=200)
    quantity: int = Field(ge=1, le=10_000, default=1)


class Order(BaseModel):
    """The small document the shop's endpoint returns for one order."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: str = Field(min_length=1, max_length=64)
    status: OrderStatus
    items: list[OrderItem] = Field(default_factory=list, max_length=100)
    carrier: str = Field(default="", max_length=100)
    tracking_url: str = Field(default="", max_length=500)
    estimated_delivery: date | None = None
    last_update: datetime | None = None


class OrderList(BaseModel):
    """A customer's recent orders, newest first."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    orders: list[Order] = Field(default_factory=list, max_length=50)


Outcome = Literal["found", "not_found", "unavailable"]


class Lookup(BaseModel):
    """What a lookup gave: the orders, none (unknown, or not this shopper's), or no answer in time.

    ``not_found`` never says which: an order number with the wrong e-mail looks like no order.
    """

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    orders: list[Order] = Field(default_factory=list)
