"""``/api/admin/integrations``: the shop's identity secret (rotated with a grace period) and its
order connector, kept in the ``integrations.toml`` document and applied on every worker.

Secrets are never sent back: the admin page learns only whether one is set; a rotated identity
secret is shown once, in the answer to the rotation.
"""

from __future__ import annotations

import secrets
import tomllib
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from chatserver.core.auth import Account
from chatserver.core.shop_config import LiveShop
from chatserver.domain.settings import Settings
from chatserver.web.admin_api import change
from chatserver.web.admin_common import endpoint, hub_of, live_of, parse

DOCUMENT = "integrations.toml"
ROTATION_GRACE_S = 24 * 3600
"""How long the previous identity secret stays valid after a rotation."""

_FIELDS = {
    ("identity", "secret"): "identity_secret",
    ("identity", "previous_secret"): "identity_previous_secret",
    ("identity", "previous_until"): "identity_previous_until",
    ("orders", "url"): "orders_url",
    ("orders", "customer_url"): "orders_customer_url",
    ("orders", "secret"): "orders_secret",
}


class OrdersChange(BaseModel):
    """The order connector as the admin sets it; an empty ``secret`` keeps the stored one."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="", max_length=500)
    customer_url: str = Field(default="", max_length=500)
    secret: str = Field(default="", max_length=200)

    @field_validator("url", "customer_url")
    @classmethod
    def _address(cls, value: str, info: Any) -> str:
        value = value.strip()
        if not value:
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError("give a full https:// address")
        placeholder = "{order}" if info.field_name == "url" else "{customer}"
        if placeholder not in value:
            raise ValueError(f"the address must hold {placeholder}")
        return value


def stored(live: LiveShop) -> dict[str, dict[str, Any]]:
    """The integrations document as tables (empty when the shop has none)."""
    text = live.documents.get(DOCUMENT)
    return tomllib.loads(text) if text else {}


class FollowIntegrations:
    """Applies the stored document to the settings on every change; the flags' values stand
    where the document sets nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.flags = {name: getattr(settings, name) for name in _FIELDS.values()}

    def __call__(self, live: LiveShop) -> None:
        tables = stored(live)
        for (table, key), name in _FIELDS.items():
            value = tables.get(table, {}).get(key)
            setattr(self.settings, name, self.flags[name] if value in (None, "") else value)


def _public(request: Request) -> dict[str, Any]:
    settings = hub_of(request).settings
    return {
        "identity": {
            "secret_set": bool(settings.identity_secret),
            "demo": not settings.identity_secret and settings.demo_data,
            "previous_until": settings.identity_previous_until or None,
        },
        "orders": {
            "url": settings.orders_url,
            "customer_url": settings.orders_customer_url,
            "secret_set": bool(settings.orders_secret),
            "demo": not settings.orders_url and settings.demo_data,
        },
    }


@endpoint(write=False)
async def integrations(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/integrations``: what is configured (never the secrets)."""
    return _public(request)


@endpoint(write=True)
async def rotate_identity(request: Request, account: Account) -> dict[str, Any]:
    """``POST /api/admin/integrations/identity``: a new identity secret, shown once; the one
    before stays valid for ``ROTATION_GRACE_S`` so pages already rendered keep working."""
    hub, live = hub_of(request), live_of(request)
    tables = stored(live)
    new = secrets.token_urlsafe(32)
    identity: dict[str, Any] = {"secret": new}
    if hub.settings.identity_secret:
        identity |= {
            "previous_secret": hub.settings.identity_secret,
            "previous_until": hub.clock.now() + ROTATION_GRACE_S,
        }
    tables["identity"] = identity
    await change(request, account, {DOCUMENT: tomli_w.dumps(tables)}, "identity secret rotated")
    return {"secret": new, **_public(request)}


@endpoint(write=True)
async def put_orders(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/integrations/orders``: the order connector's endpoints and secret."""
    body = await parse(request, OrdersChange)
    live = live_of(request)
    tables = stored(live)
    orders = {"url": body.url, "customer_url": body.customer_url}
    orders["secret"] = body.secret or tables.get("orders", {}).get("secret", "")
    tables["orders"] = orders
    await change(request, account, {DOCUMENT: tomli_w.dumps(tables)}, "order connector")
    return _public(request)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/admin/integrations", integrations),
        Route("/api/admin/integrations/identity", rotate_identity, methods=["POST"]),
        Route("/api/admin/integrations/orders", put_orders, methods=["PUT"]),
    ]
