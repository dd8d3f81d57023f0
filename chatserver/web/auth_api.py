"""HTTP endpoints of the JSON API: agent login and health."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.core.auth import Account
from chatserver.core.hub import Hub
from chatserver.domain.errors import Unauthorized
from chatserver.web.limits import LoginThrottle
from chatserver.web.responses import error_response


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(min_length=1, max_length=500)
    password: str = Field(min_length=8, max_length=200)


class LoginResponse(BaseModel):
    token: str
    agent_id: str
    name: str
    role: str


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def login(request: Request) -> Response:
    """``POST /api/login`` with ``{"username", "password"}``: a session token for the agent socket.

    Failed logins are throttled per account and per address: 429 with ``Retry-After``.
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    address = "address:" + (request.client.host if request.client else "")
    if (wait := throttle.retry_after(address)) is not None:
        return _throttled(wait)
    try:
        body = LoginRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        return error_response(
            400, f"login needs JSON {{username, password}}: {exc.errors()[0]['msg']}"
        )
    account_key = "account:" + body.username
    if (wait := throttle.retry_after(account_key, address)) is not None:
        return _throttled(wait)
    hub = _hub(request)
    try:
        account = await hub.accounts.login(body.username, body.password)
    except Unauthorized as exc:
        throttle.failed(account_key, address)
        return error_response(401, exc.message)
    throttle.succeeded(account_key)
    return _signed_in(hub, account)


async def accept_invite(request: Request) -> Response:
    """``POST /api/invite`` with ``{"token", "password"}``: an invited agent chooses their
    password (at least 8 characters) and is signed in. The link works once."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = "address:" + (request.client.host if request.client else "")
    if (wait := throttle.retry_after(address)) is not None:
        return _throttled(wait)
    try:
        body = InviteRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(x) for x in error["loc"]) or "body"
        return error_response(
            400, f"invite needs JSON {{token, password}}: {field}: {error['msg']}"
        )
    hub = _hub(request)
    try:
        account = await hub.accounts.accept_invite(hub.tokens, body.token, body.password)
    except Unauthorized as exc:
        throttle.failed(address)
        return error_response(401, exc.message)
    return _signed_in(hub, account)


def _signed_in(hub: Hub, account: Account) -> Response:
    reply = LoginResponse(
        token=hub.tokens.new_session(account.id, account.session_generation),
        agent_id=account.id,
        name=account.name,
        role=account.role,
    )
    return Response(reply.model_dump_json(), media_type="application/json")


def _throttled(wait: int) -> Response:
    response = error_response(429, f"too many failed logins: try again in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response


async def health(request: Request) -> Response:
    """``GET /api/health``: 200 while the server runs."""
    return JSONResponse({"status": "ok"})
