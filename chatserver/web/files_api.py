"""Attachments over HTTP: upload a photo or PDF to a conversation, and read it back.

``POST /api/conversations/{id}/files`` takes the file as the raw request body, its name in the
``X-File-Name`` header (URL-encoded) and an optional ``X-Client-Id`` (a retry returns the first
event); ``GET /api/conversations/{id}/files/{file_id}/{name}`` serves it. Both need
``Authorization: Bearer <token>``: the conversation's shopper token, or an agent's session. The
shop's pages (``allowed_origins``) may call them from the browser (CORS).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.core.attachments import Attachments, Caller
from chatserver.domain.errors import (
    ChatError,
    NotAllowed,
    NotFound,
    NotYourConversation,
    Unauthorized,
    Unavailable,
)
from chatserver.domain.files import EXTENSIONS, FileRefused, safe_name, too_large
from chatserver.domain.settings import Settings
from chatserver.web.auth_api import error_response

_STATUS: tuple[tuple[type[ChatError], int], ...] = (
    (FileRefused, 415),
    (Unauthorized, 401),
    (NotYourConversation, 403),
    (NotAllowed, 409),
    (NotFound, 404),
    (Unavailable, 503),
)
_ALLOWED_HEADERS = "authorization, content-type, x-file-name, x-client-id"


def _status(exc: ChatError) -> int:
    if isinstance(exc, FileRefused):
        return exc.status
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def _cors(request: Request, response: Response) -> Response:
    """Let the shop's own pages (the widget) read the answer."""
    origin = request.headers.get("origin")
    settings: Settings = request.app.state.settings
    if origin and settings.origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


async def preflight(request: Request) -> Response:
    """``OPTIONS``: what a browser asks before a cross-origin upload or read."""
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST"
    response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(request, response)


async def _caller(request: Request) -> Caller:
    attachments: Attachments = request.app.state.attachments
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return await attachments.caller(token.strip() if scheme.lower() == "bearer" else "")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` (never read whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FileRefused(too_large(limit), status=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FileRefused(too_large(limit), status=413)
        chunks.append(chunk)
    return b"".join(chunks)


async def upload(request: Request) -> Response:
    """``POST``: store the body as a file of the conversation; 201 with its ``file_attached``."""
    attachments: Attachments = request.app.state.attachments
    conversation_id = request.path_params["conversation_id"]
    try:
        caller = await _caller(request)
        await attachments.conversation(caller, conversation_id)  # before reading any body
        data = await _body(request, attachments.settings.max_file_bytes)
        name = unquote(request.headers.get("x-file-name", "")) or "file"
        client_id = request.headers.get("x-client-id") or None
        text = await attachments.attach(caller, conversation_id, name, data, client_id)
    except ChatError as exc:
        return _cors(request, error_response(_status(exc), exc.message))
    return _cors(request, Response(text, 201, media_type="application/json"))


async def download(request: Request) -> Response:
    """``GET``: a file, to its conversation's shopper and to staff only."""
    attachments: Attachments = request.app.state.attachments
    params = request.path_params
    try:
        caller = await _caller(request)
        stored = await attachments.read(caller, params["conversation_id"], params["file_id"])
    except ChatError as exc:
        return _cors(request, error_response(_status(exc), exc.message))
    content_type = stored.content_type or "application/octet-stream"
    # Only images show inline; a PDF (it may hold scripts) and anything else is downloaded.
    inline = content_type.startswith("image/")
    name = safe_name(params["name"], content_type) if content_type in EXTENSIONS else "file"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; "
        f"filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400",
    }
    return _cors(request, Response(stored.data, media_type=content_type, headers=headers))


def file_routes() -> list[Route]:
    """The attachment endpoints, with their CORS preflights."""
    files = "/api/conversations/{conversation_id}/files"
    one = files + "/{file_id}/{name}"
    return [
        Route(files, upload, methods=["POST"]),
        Route(files, preflight, methods=["OPTIONS"]),
        Route(one, download, methods=["GET"]),
        Route(one, preflight, methods=["OPTIONS"]),
    ]
