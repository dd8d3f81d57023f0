"""Identified shoppers: the shop's signed customer checked at hello, and an anonymous shopper's
open conversation joined to the customer they log in as.

The shop's page signs its logged-in customer with the shop's identity secret, as Chatwoot's
``identifier_hash``: the hex HMAC-SHA256 of ``"<id>:<expires>"``. After a rotation the previous
secret stays valid until ``previous_until``, so pages rendered before it keep working.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from chatserver.core.journal import Journal
from chatserver.domain import protocol as p
from chatserver.domain.customer import customer_shopper_id
from chatserver.domain.errors import IdentityRefused
from chatserver.domain.settings import Settings

DEMO_IDENTITY_SECRET = "demo-identity-secret"
"""The demo shop's identity secret (``demo_data`` on, no ``identity_secret`` set)."""


def customer_hash(secret: str, customer_id: str, expires: int) -> str:
    """The signature a shop's page sends with its customer: hex HMAC-SHA256 of ``id:expires``."""
    message = f"{customer_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Customer:
    """A verified customer of the shop."""

    id: str
    name: str = ""
    email: str = ""
    locale: str = ""

    @property
    def shopper_id(self) -> str:
        return customer_shopper_id(self.id)


@dataclass(frozen=True)
class IdentitySecrets:
    """The shop's identity secret, and the one before it while its grace period lasts."""

    current: str = ""
    previous: str = ""
    previous_until: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> IdentitySecrets:
        current = settings.identity_secret or (DEMO_IDENTITY_SECRET if settings.demo_data else "")
        return cls(current, settings.identity_previous_secret, settings.identity_previous_until)

    def valid(self, now: float) -> list[str]:
        """The secrets a signature may be made with at ``now``."""
        previous = [self.previous] if self.previous and now < self.previous_until else []
        return [self.current, *previous] if self.current else previous


def verify(identity: p.CustomerIdentity, secrets: IdentitySecrets, now: float) -> Customer:
    """The customer a page vouched for. Raises IdentityRefused (no secret, expired, wrong hash)."""
    valid = secrets.valid(now)
    if not valid:
        raise IdentityRefused("this shop takes no customer identities: no identity secret is set")
    if not identity.hash:
        raise IdentityRefused(
            "the customer identity has no signature (data-customer-hash): continuing as a guest"
        )
    if identity.expires <= now:
        raise IdentityRefused(
            "the customer identity has expired: continuing as a guest (reload the shop's page)"
        )
    signed = identity.hash.lower()
    if not any(
        hmac.compare_digest(customer_hash(secret, identity.id, identity.expires), signed)
        for secret in valid
    ):
        raise IdentityRefused("the customer identity's signature is wrong: continuing as a guest")
    return Customer(identity.id, identity.name, identity.email, identity.locale)


class Identities:
    """Checks the customer a hello names, and joins a guest's open chat to them on login.

    Args:
        journal: the conversations.
        settings: read on every check, so a rotated secret applies at once.
    """

    def __init__(self, journal: Journal, settings: Settings) -> None:
        self.journal = journal
        self.settings = settings

    def check(self, identity: p.CustomerIdentity) -> Customer:
        """The verified customer. Raises IdentityRefused."""
        secrets = IdentitySecrets.of(self.settings)
        return verify(identity, secrets, self.journal.clock.now())

    async def join(self, guest_id: str, customer: Customer) -> None:
        """A guest who logged in keeps their open conversation: it becomes the customer's."""
        conversation = await self.journal.latest(guest_id)
        if conversation is None or conversation.status == "closed":
            return
        conversation = await self.journal.move(conversation, customer.shopper_id)
        conversation = await self.journal.update(
            conversation,
            customer_id=customer.id,
            customer_name=customer.name,
            customer_email=customer.email,
        )
        await self.journal.post(
            conversation.id,
            p.CustomerIdentified,
            customer_name=customer.name,
            customer_email=customer.email,
        )
