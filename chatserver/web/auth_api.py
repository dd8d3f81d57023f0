"""HTTP endpoints of the JSON API: agent login and health."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatserver.core.hub import Hub
from chatserver.domain.errors import Unauthorized


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    token: str
    agent_id: str
    name: str
    role: str


class ErrorResponse(BaseModel):
    error: str


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def error_response(status: int, message: str) -> Response:
    return Response(
        ErrorResponse(error=message).model_dump_json(), status, media_type="application/json"
    )


async def login(request: Request) -> Response:
    """``POST /api/login`` with ``{"username", "password"}``: a session token for the agent socket."""
    try:
        body = LoginRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        return error_response(
            400, f"login needs JSON {{username, password}}: {exc.errors()[0]['msg']}"
        )
    hub = _hub(request)
    try:
        account = await hub.accounts.login(body.username, body.password)
    except Unauthorized as exc:
        return error_response(401, exc.message)
    reply = LoginResponse(
        token=hub.tokens.new_session(account.id, account.session_generation),
        agent_id=account.id,
        name=account.name,
        role=account.role,
    )
    return Response(reply.model_dump_json(), media_type="application/json")


async def health(request: Request) -> Response:
    """``GET /api/health``: 200 while the server runs."""
    return JSONResponse({"status": "ok"})
