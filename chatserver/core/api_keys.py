"""The shop's API keys: made by the admin, shown once, kept only as a hash, scoped, revocable.

A key reads ``csk_<key id>_<secret>``; the store keeps the SHA-256 of the whole key (the secret
has 256 bits, so a plain hash is enough) and each use is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

from pydantic import BaseModel

from chatserver.domain.clock import Clock
from chatserver.domain.errors import NotFound
from chatserver.store.notice_ports import ApiKeys

Scope = Literal["notices:write", "choices:read"]
SCOPES: tuple[Scope, ...] = ("notices:write", "choices:read")
PREFIX = "csk_"
# A hash no key has, compared against when the key id is unknown, so a miss takes as long.
_NO_KEY = hashlib.sha256(b"no such key").hexdigest()


class ApiKey(BaseModel):
    """A key as the store keeps it (never the key itself)."""

    id: str
    name: str
    scopes: list[Scope]
    hash: str
    created_at: float
    created_by: str
    revoked_at: float | None = None

    def public(self) -> dict[str, object]:
        """What the admin page shows: everything but the hash."""
        return self.model_dump(exclude={"hash"})


class KeyRefused(Exception):
    """Raised when a request's key is missing, wrong, revoked (401) or lacks the scope (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Creates, lists, revokes and checks API keys."""

    def __init__(self, keys: ApiKeys, clock: Clock) -> None:
        self.keys = keys
        self.clock = clock

    async def create(self, name: str, scopes: list[Scope], by: str) -> tuple[ApiKey, str]:
        """A new key: its record and the key itself, which is never shown again."""
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            id=key_id,
            name=name,
            scopes=sorted(set(scopes)),
            hash=_digest(key),
            created_at=self.clock.now(),
            created_by=by,
        )
        await self.keys.put(key_id, record.model_dump_json())
        return record, key

    async def all(self) -> list[ApiKey]:
        return [ApiKey.model_validate_json(text) for text in await self.keys.all()]

    async def revoke(self, key_id: str) -> ApiKey:
        """Refuse a key from now on. Raises NotFound."""
        text = await self.keys.get(key_id)
        if text is None:
            raise NotFound(f"no API key {key_id!r}")
        record = ApiKey.model_validate_json(text)
        if record.revoked_at is None:
            record = record.model_copy(update={"revoked_at": self.clock.now()})
            await self.keys.put(key_id, record.model_dump_json())
        return record

    async def check(self, authorization: str, scope: Scope) -> ApiKey:
        """The key of an ``Authorization: Bearer <key>`` header, if it may act in ``scope``.

        Raises:
            KeyRefused: no key, an unknown or revoked one (401), or one without the scope (403).
        """
        if not authorization.startswith("Bearer "):
            raise KeyRefused(401, "send an API key: Authorization: Bearer csk_...")
        presented = authorization.removeprefix("Bearer ").strip()
        key_id = presented.removeprefix(PREFIX).split("_", 1)[0]
        text = await self.keys.get(key_id) if presented.startswith(PREFIX) and key_id else None
        record = ApiKey.model_validate_json(text) if text is not None else None
        expected = record.hash if record is not None else _NO_KEY
        if not hmac.compare_digest(_digest(presented), expected) or record is None:
            raise KeyRefused(401, "this API key is not valid")
        if record.revoked_at is not None:
            raise KeyRefused(401, "this API key was revoked")
        if scope not in record.scopes:
            raise KeyRefused(403, f"this API key may not {scope} (its scopes: {record.scopes})")
        return record
