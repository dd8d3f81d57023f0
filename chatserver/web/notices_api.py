"""``/api/notices``: the shop's system sends notices to its customers and reads their answers,
with an API key (``Authorization: Bearer csk_...``) of the right scope."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from chatserver.core.api_keys import KeyRefused, Scope
from chatserver.core.hub import Hub
from chatserver.core.notices import NoticeIn
from chatserver.domain.templates import MissingValue


def _answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, media_type="application/json")


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def _key(request: Request, scope: Scope) -> Response | None:
    """None when the request's key may act in ``scope``; else the refusal to answer with."""
    try:
        await _hub(request).keys.check(request.headers.get("authorization", ""), scope)
    except KeyRefused as exc:
        return _answer({"error": exc.message}, exc.status)
    return None


def _fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(where, error["msg"].removeprefix("Value error, "))
    return fields


async def post_notice(request: Request) -> Response:
    """``POST /api/notices`` (scope ``notices:write``): 201 with where the notice went; 200 with
    the original for a ``notice_id`` sent before; 422 naming each wrong field or placeholder."""
    refused = await _key(request, "notices:write")
    if refused is not None:
        return refused
    try:
        notice = NoticeIn.model_validate_json(await request.body())
    except ValidationError as exc:
        fields = _fields(exc)
        first = next(iter(fields.items()))
        return _answer({"error": f"{first[0]}: {first[1]}", "fields": fields}, 422)
    try:
        sent = await _hub(request).notices.send(notice)
    except MissingValue as exc:
        message = f"the {notice.kind} notice's text needs {{{exc.placeholder}}}: {exc}"
        return _answer({"error": message, "fields": {exc.placeholder: str(exc)}}, 422)
    return _answer(sent.model_dump(), 200 if sent.duplicate else 201)


async def get_choices(request: Request) -> Response:
    """``GET /api/notices/choices?since=N`` (scope ``choices:read``): shoppers' answers numbered
    above ``N`` (0: from the first), oldest first; ``next`` is the ``since`` of the next call."""
    refused = await _key(request, "choices:read")
    if refused is not None:
        return refused
    try:
        since = int(request.query_params.get("since", "0"))
        limit = min(max(int(request.query_params.get("limit", "100")), 1), 500)
    except ValueError:
        return _answer({"error": "since and limit must be whole numbers"}, 422)
    choices = await _hub(request).notices.choices(since, limit)
    following = choices[-1].number if choices else since
    return _answer({"choices": [c.model_dump() for c in choices], "next": following})
