"""HTTP endpoints of the service playbook: the tone coach's rules for the console."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from chatserver.playbook.tone import book, rules_for


async def tone_rules(request: Request) -> Response:
    """``GET /api/playbook/tone``: the tone coach's rules of every language (``?lang=de``: one)."""
    lang = request.query_params.get("lang")
    body = (rules_for(lang[:35]) if lang else book()).model_dump_json()
    return Response(
        body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"}
    )
