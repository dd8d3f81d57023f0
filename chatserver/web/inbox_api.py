"""HTTP endpoints of the offline inbox and of past conversations, for any signed-in agent.

``GET /api/inbox`` open entries (oldest first) and replies not sent yet; ``POST
/api/inbox/{conversation_id}/reply`` with ``{"text"}`` answers one (stored in its log, e-mailed,
retried until sent); ``GET /api/history?q=&since=&until=`` conversations holding every word of
``q`` (times in epoch seconds), newest first; ``GET /api/conversations/{conversation_id}`` one,
whole and read-only. Each needs ``Authorization: Bearer <session token>`` (401 otherwise).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from chatserver.core.auth import Account
from chatserver.core.history import Found
from chatserver.core.hub import Hub
from chatserver.domain.errors import ChatError, NotFound, Unauthorized, Unavailable
from chatserver.web.auth_api import error_response


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=5000)


class SearchResults(BaseModel):
    query: str
    results: list[Found]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.response = error_response(status, message)


async def _agent(request: Request) -> tuple[Hub, Account]:
    """The hub and the signed-in agent of a request's bearer token."""
    hub: Hub = request.app.state.hub
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Refused(401, "sign in first: 'Authorization: Bearer <token>' from /api/login")
    try:
        account = await hub.accounts.get(hub.tokens.session_agent(token.strip()))
    except Unauthorized as exc:
        raise _Refused(401, exc.message) from exc
    if account is None:
        raise _Refused(401, "this agent no longer exists")
    return hub, account


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _refused(exc: ChatError) -> Response:
    status = 404 if isinstance(exc, NotFound) else 503 if isinstance(exc, Unavailable) else 409
    return error_response(status, exc.message)


async def inbox(request: Request) -> Response:
    """``GET /api/inbox``."""
    try:
        hub, _ = await _agent(request)
        return _json(await hub.inbox.view())
    except _Refused as refused:
        return refused.response
    except ChatError as exc:
        return _refused(exc)


async def reply(request: Request) -> Response:
    """``POST /api/inbox/{conversation_id}/reply``: 200 with ``sent`` true, or false and the
    e-mail kept for retrying (its ``last_error`` and ``next_attempt``)."""
    try:
        hub, account = await _agent(request)
        body = ReplyRequest.model_validate_json(await request.body())
        conversation_id = request.path_params["conversation_id"]
        return _json(await hub.inbox.reply(conversation_id, account.id, account.name, body.text))
    except _Refused as refused:
        return refused.response
    except ValidationError as exc:
        return error_response(400, f"a reply needs JSON {{text}}: {exc.errors()[0]['msg']}")
    except ChatError as exc:
        return _refused(exc)


async def history(request: Request) -> Response:
    """``GET /api/history?q=words&since=&until=&limit=``."""
    try:
        hub, _ = await _agent(request)
        params = request.query_params
        query = params.get("q", "")[:500]
        since = float(params.get("since") or 0)
        until = float(params.get("until") or "inf")
        limit = min(max(int(params.get("limit") or 50), 1), 200)
    except _Refused as refused:
        return refused.response
    except ValueError:
        return error_response(400, "since and until are epoch seconds, limit a whole number")
    try:
        results = await hub.history.find(query, since, until, limit)
    except ChatError as exc:
        return _refused(exc)
    return _json(SearchResults(query=query, results=results))


async def conversation(request: Request) -> Response:
    """``GET /api/conversations/{conversation_id}``: read-only, with notes, tags and rating."""
    try:
        hub, _ = await _agent(request)
        return _json(await hub.history.view(request.path_params["conversation_id"]))
    except _Refused as refused:
        return refused.response
    except ChatError as exc:
        return _refused(exc)
