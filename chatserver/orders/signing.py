"""HMAC-SHA256 request signatures between chatserver and the shop's order endpoint."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Chat-Signature"
TIMESTAMP_HEADER = "X-Chat-Timestamp"
MAX_SKEW_S = 300.0


def sign(secret: str, timestamp: str, method: str, target: str) -> str:
    """The hex signature of one request: ``METHOD target`` at ``timestamp`` (Unix seconds)."""
    message = f"{timestamp}\n{method.upper()}\n{target}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str, method: str, target: str, signature: str, now: float
) -> bool:
    """True if the signature is right and the timestamp within ``MAX_SKEW_S`` of ``now``."""
    try:
        skew = abs(now - float(timestamp))
    except ValueError:
        return False
    expected = sign(secret, timestamp, method, target)
    return skew <= MAX_SKEW_S and hmac.compare_digest(expected, signature)
