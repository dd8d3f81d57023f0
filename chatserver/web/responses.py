"""The JSON error body every HTTP endpoint answers with."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


class ErrorResponse(BaseModel):
    error: str


def error_response(status: int, message: str) -> Response:
    return Response(
        ErrorResponse(error=message).model_dump_json(), status, media_type="application/json"
    )
