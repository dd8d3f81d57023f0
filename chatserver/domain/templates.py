"""Texts with placeholders (``{first_name}``, ``{order}``, ...), filled in one place.

A placeholder without a value is an error naming it, never a literal ``{order}`` sent to a
shopper; so is a placeholder nobody knows, which :func:`check` finds before a template is stored.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

PLACEHOLDERS = (
    "first_name", "order", "product", "tracking_link", "new_date", "reason", "amount", "coupon",
)  # fmt: skip
"""Every placeholder a notice or canned reply may use."""

_FORMATTER = string.Formatter()


class MissingValue(ValueError):
    """Raised when a template names a placeholder that has no value (or that nobody knows)."""

    def __init__(self, placeholder: str, known: bool = True) -> None:
        what = "has no value" if known else "is not a placeholder"
        super().__init__(f"{{{placeholder}}} {what}")
        self.placeholder = placeholder
        self.known = known


def placeholders(template: str) -> list[str]:
    """The placeholders a template names, in order, each once.

    Raises:
        ValueError: the template's braces are unbalanced (``{{`` and ``}}`` are literal braces).
    """
    names = [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    return list(dict.fromkeys(names))


def check(template: str) -> None:
    """Raise MissingValue(known=False) for a placeholder that is not in ``PLACEHOLDERS``, or
    ValueError for unbalanced braces."""
    for name in placeholders(template):
        if name not in PLACEHOLDERS:
            raise MissingValue(name, known=False)


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with every placeholder replaced by its value.

    Raises:
        MissingValue: a placeholder is unknown, or has no value (missing or empty).
    """
    check(template)
    for name in placeholders(template):
        if not values.get(name):
            raise MissingValue(name)
    # Only plain names reach here (no attribute or index lookups, no format specs beyond str's).
    return template.format_map({name: values[name] for name in placeholders(template)})
