"""Finding an order number and its proof (e-mail or postcode) in a shopper's message."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"[^@\s<>,;:()]+@[^@\s<>,;:()]+\.[A-Za-z]{2,}")
# An order number: 5 to 12 digits, perhaps after "#" or letters such as "A-" (shops differ).
_NUMBER = re.compile(r"(?<![\w@.-])#?([A-Za-z]{0,3}-?\d{5,12})(?![\w@-])")
# UK postcodes, else 4-5 digit ones (DE, FR, US, NL's digits...).
_UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<![\w#-])(\d{4,5})(?![\w-])")


@dataclass(frozen=True)
class OrderReference:
    """An order number and what proves the shopper knows it."""

    number: str
    email: str = ""
    postcode: str = ""


def find_reference(text: str) -> OrderReference | None:
    """The order number with an e-mail address or postcode in ``text``; None without both."""
    email_match = _EMAIL.search(text)
    email = email_match.group(0).strip(".") if email_match else ""
    rest = _EMAIL.sub(" ", text)
    uk = _UK_POSTCODE.search(rest)
    postcode = uk.group(1) if uk else ""
    if uk:
        rest = rest[: uk.start()] + " " + rest[uk.end() :]
    numbers = [m.group(1) for m in _NUMBER.finditer(rest)]
    if not numbers:
        return None
    number = max(numbers, key=len) if not (email or postcode) else numbers[0]
    if not (email or postcode):
        # Two numbers: the longer is the order, a 4-5 digit other one the postcode.
        others = [m.group(1) for m in _POSTCODE.finditer(rest) if m.group(1) != number]
        if not others:
            return None
        postcode = others[0]
    return OrderReference(number=number, email=email, postcode=postcode)
