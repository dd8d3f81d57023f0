"""What browsers fetch: the pages, the one-tag widget bundle, the locale tables and ``/static``.

Files go through ``StaticFiles`` (ETag and Last-Modified, so a revalidation is a 304) with a
``Cache-Control`` header; ``GZipMiddleware`` compresses every HTTP response and lets WebSockets
through untouched.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
REVALIDATE = "no-cache"
"""Pages and ``/static``: kept, but checked on every use (a 304 when unchanged)."""
SHOP_CACHE = "public, max-age=300"
"""What shops' pages fetch (the widget, the locale tables): five minutes before checking again."""
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
PAGES = {"/": "demo.html", "/console": "console.html", "/reports": "reports.html"}
WIDGET_PARTS = ("chat-common.js", "chat-files.js", "notices.js", "widget.js")
LOCALE_NAME = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?")  # "de", "zh-CN"

Endpoint = Callable[[Request], Awaitable[Response]]


class CachedFiles(StaticFiles):
    """``StaticFiles`` whose answers (304s too) carry ``Cache-Control`` and any extra headers."""

    def __init__(
        self, directory: Path, cache_control: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(directory=directory)
        self.extra_headers = {"Cache-Control": cache_control, **(headers or {})}

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(self.extra_headers)
        return response


@dataclass(frozen=True)
class Bundle:
    """A script made of several files, built once, with an ETag of its content."""

    body: bytes
    etag: str

    @classmethod
    def build(cls, directory: Path, names: tuple[str, ...]) -> Bundle:
        """The files in one function, so that nothing they declare becomes a global of the page."""
        parts = [(directory / name).read_text(encoding="utf-8") for name in names]
        body = "(function () {\n" + "\n".join(parts) + "\n})();\n"
        data = body.encode("utf-8")
        return cls(data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')

    async def endpoint(self, request: Request) -> Response:
        """``/widget.js``: any shop may load it; a 304 when the browser has this version."""
        headers = {**ANY_ORIGIN, "Cache-Control": SHOP_CACHE, "ETag": self.etag}
        if self.etag in etags(request.headers):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type="text/javascript; charset=utf-8", headers=headers)


def etags(headers: Headers) -> list[str]:
    """The tags of ``If-None-Match`` (weak or strong; a compressed copy keeps its tag)."""
    raw = headers.get("if-none-match", "")
    return [tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()]


def page(files: StaticFiles, name: str) -> Endpoint:
    """An endpoint answering with one file of ``files`` (conditional requests included)."""

    async def endpoint(request: Request) -> Response:
        return await files.get_response(name, request.scope)

    return endpoint


def locale_tables(directory: Path) -> Endpoint:
    """``/locales/{lang}.json``: the strings of the widget, console and reports, for any origin."""
    files = CachedFiles(directory, SHOP_CACHE, ANY_ORIGIN)

    async def endpoint(request: Request) -> Response:
        name = request.path_params["lang"]
        if not LOCALE_NAME.fullmatch(name) or not (directory / f"{name}.json").is_file():
            return PlainTextResponse("no such locale", 404, headers=ANY_ORIGIN)
        return await files.get_response(f"{name}.json", request.scope)

    return endpoint


def asset_routes(static: Path = STATIC) -> list[BaseRoute]:
    """The pages, ``/widget.js`` (chat-common.js + widget.js), ``/locales/`` and ``/static/``."""
    files = CachedFiles(static, REVALIDATE)
    widget = Bundle.build(static, WIDGET_PARTS)
    return [
        *(Route(path, page(files, name)) for path, name in PAGES.items()),
        Route("/widget.js", widget.endpoint),
        Route("/locales/{lang:path}.json", locale_tables(static / "locales")),
        Mount("/static", files, name="static"),
    ]


def asset_middleware() -> list[Middleware]:
    """Compression for every HTTP answer larger than a packet's worth; WebSockets pass through."""
    return [Middleware(GZipMiddleware, minimum_size=500)]
