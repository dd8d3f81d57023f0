"""What every admin endpoint shares: who is asking, CSRF-safe writes, bounded bodies, errors.

Requests carry the agent's session token in ``Authorization: Bearer`` (never a cookie), so a
page on another site cannot make a browser send one; a write that comes with an ``Origin`` header
must also come from this server's own origin.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from chatserver.core.auth import Account
from chatserver.core.hub import Hub
from chatserver.core.shop_config import LiveShop
from chatserver.domain.errors import Unauthorized

MAX_BODY = 256 * 1024
"""The largest admin request body, bytes: a whole FAQ entry fits many times over."""

M = TypeVar("M", bound=BaseModel)


class Refused(Exception):
    """An admin request that gets an error answer; ``fields`` say which field is wrong."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or {}


def answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, media_type="application/json")


def refusal(exc: Refused) -> Response:
    return answer({"error": exc.message, "fields": exc.fields}, exc.status)


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def live_of(request: Request) -> LiveShop:
    live: LiveShop = request.app.state.live
    return live


async def caller(request: Request, write: bool) -> Account:
    """The logged-in agent asking; admins may write, managers and admins may read."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        raise Refused(401, "log in first: send the session token from /api/login")
    hub = hub_of(request)
    try:
        account = await hub.accounts.get(hub.tokens.session_agent(header.removeprefix("Bearer ")))
    except Unauthorized as exc:
        raise Refused(401, exc.message) from exc
    if account is None:
        raise Refused(401, "this account no longer exists")
    if write and account.role != "admin":
        raise Refused(403, "only an admin can change the shop's settings")
    if account.role not in ("admin", "manager"):
        raise Refused(403, "the admin page is for admins and managers")
    if write:
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin is not None and origin.rstrip("/") not in (own, hub.settings.base_url):
            raise Refused(403, f"writes must come from this server's own page, not {origin}")
    return account


async def parse(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``; a clear error per field otherwise."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise Refused(413, f"too large: at most {MAX_BODY // 1024} KB per change")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, f"too large: at most {MAX_BODY // 1024} KB per change")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid(exc) from exc


def invalid(exc: ValidationError, prefix: str = "") -> Refused:
    """A 400 naming each wrong field (dotted path) and what is wrong with it."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        where = prefix + ".".join(str(part) for part in error["loc"])
        fields.setdefault(where or "body", error["msg"].removeprefix("Value error, "))
    first = next(iter(fields.items()))
    return Refused(400, f"{first[0]}: {first[1]}", fields)


Endpoint = Callable[[Request], Awaitable[Response]]


def endpoint(write: bool) -> Callable[[Callable[[Request, Account], Awaitable[Any]]], Endpoint]:
    """Wrap a handler ``(request, account) -> body``: check the caller, answer JSON or an error."""

    def wrap(handler: Callable[[Request, Account], Awaitable[Any]]) -> Endpoint:
        async def run(request: Request) -> Response:
            try:
                account = await caller(request, write)
                return answer(await handler(request, account))
            except Refused as exc:
                return refusal(exc)

        return run

    return wrap
