"""Identified customers: the shop's own customer id, and the shopper id it maps to."""

from __future__ import annotations

import hashlib

#: Prefix of the shopper ids of verified customers (anonymous shoppers' ids start with ``s-``).
CUSTOMER_PREFIX = "c-"


def customer_shopper_id(customer_id: str) -> str:
    """The one shopper id of the shop's customer ``customer_id``, the same on every device.

    Every conversation of a verified customer is kept under this id, so it follows them across
    browsers; notices the shop sends to the customer go to it as well.
    """
    digest = hashlib.sha256(customer_id.encode("utf-8")).hexdigest()[:32]
    return CUSTOMER_PREFIX + digest


def is_customer(shopper_id: str) -> bool:
    """Whether ``shopper_id`` is a verified customer's (not an anonymous visitor's)."""
    return shopper_id.startswith(CUSTOMER_PREFIX)
