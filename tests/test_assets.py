"""What browsers fetch, over real HTTP: the widget bundle, pages, locale tables and static files
come compressed, with caching headers, and answer 304 when the browser already has them."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import httpx
import pytest

from chatserver.web.assets import STATIC
from tests.conftest import Server

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}
LOCALES = ("en", "de", "fr")


@pytest.fixture
def backend_kind() -> str:
    """Files do not depend on the store."""
    return "sqlite"


async def get(server: Server, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.get(path, headers=headers)


async def raw_get(server: Server, path: str) -> tuple[int, bytes, bytes]:
    """Status, head and body for a path sent exactly as written (clients normalise ``..``)."""
    address = urlsplit(server.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), body


async def test_widget_is_one_gzipped_bundle_with_the_shared_module(server: Server) -> None:
    response = await get(server, "/widget.js", **GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"].startswith("text/javascript")
    assert int(response.headers["content-length"]) < len(response.content) / 2
    common = (STATIC / "chat-common.js").read_text(encoding="utf-8")
    widget = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert common in response.text and widget in response.text
    assert response.text.index(common) < response.text.index(widget)
    # One function around both: ChatCommon is not a global of the shop's page.
    assert response.text.startswith("(function () {") and response.text.endswith("})();\n")

    plain = await get(server, "/widget.js", **PLAIN)
    assert "content-encoding" not in plain.headers
    assert plain.content == response.content


async def test_widget_is_cached_and_revalidated(server: Server) -> None:
    first = await get(server, "/widget.js", **GZIP)
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    again = await get(server, "/widget.js", **GZIP, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=300"
    weak = await get(server, "/widget.js", **{"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    stale = await get(server, "/widget.js", **{"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == first.content


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/", "no-cache"),
        ("/console", "no-cache"),
        ("/reports", "no-cache"),
        ("/static/console.js", "no-cache"),
        ("/static/chat-common.js", "no-cache"),
        ("/locales/de.json", "public, max-age=300"),
    ],
)
async def test_files_carry_cache_headers_and_answer_304(
    server: Server, path: str, cache_control: str
) -> None:
    first = await get(server, path, **GZIP)
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["cache-control"] == cache_control
    assert first.headers["etag"] and first.headers["last-modified"]
    by_tag = await get(server, path, **{"If-None-Match": first.headers["etag"]})
    by_date = await get(server, path, **{"If-Modified-Since": first.headers["last-modified"]})
    for answer in (by_tag, by_date):
        assert answer.status_code == 304 and answer.content == b""
        assert answer.headers["cache-control"] == cache_control


async def test_locale_tables_are_served_to_any_origin(server: Server) -> None:
    response = await get(server, "/locales/fr.json", **GZIP)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/json"
    assert response.json()["r.title"] == "Rapports"


@pytest.mark.parametrize(
    "path",
    [
        "/locales/xx.json",
        "/locales/EN.json",
        "/locales/e1.json",
        "/locales/abcdefghi.json",
        "/locales/%2e%2e.json",
        "/locales/..%2Fweb%2Fassets.json",
        "/locales/de/../en.json",
    ],
)
async def test_unknown_or_malformed_locale_is_404(server: Server, path: str) -> None:
    status, head, body = await raw_get(server, path)
    assert (status, body) == (404, b"no such locale")
    assert b"\r\naccess-control-allow-origin: *\r\n" in head


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/../../chatserver/app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2Fapp.py",
        "/static/locales/../../app.py",
        "/locales/../app.json",
        "/locales/../../pyproject.json",
        "/static/../web/assets.py",
    ],
)
async def test_traversal_out_of_the_static_folder_is_404(server: Server, path: str) -> None:
    status, _, body = await raw_get(server, path)
    assert status == 404
    assert b"import" not in body


async def test_pages_load_the_shared_module_before_their_own_script(server: Server) -> None:
    console = (await get(server, "/console")).text
    assert console.index('src="/static/chat-common.js"') < console.index('src="/static/console.js"')
    reports = (await get(server, "/reports")).text
    assert reports.index('src="/static/chat-common.js"') < reports.index('src="/static/reports.js"')
    demo = (await get(server, "/")).text
    assert len(re.findall(r"<script[^>]*src=", demo)) == 1  # a shop adds one tag


def test_every_string_a_page_uses_is_in_every_locale_table() -> None:
    tables = {
        lang: json.loads((STATIC / "locales" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LOCALES
    }
    assert tables["en"].keys() == tables["de"].keys() == tables["fr"].keys()
    sources = [STATIC / name for name in ("widget.js", "console.js", "reports.js")]
    sources += [STATIC / name for name in ("console.html", "reports.html")]
    used = {
        key for path in sources for key in re.findall(r'"([wcr]\.[a-z0-9_]+)"', path.read_text())
    }
    assert {key[0] for key in used} == {"w", "c", "r"}
    assert used - tables["en"].keys() == set()
    english = re.compile(r'"[A-Z][a-z]+(?: [a-z]+)+[.:]? ?"|>[A-Z][a-z]+')  # a text in the code
    assert not english.findall((STATIC / "reports.js").read_text())
    assert not english.findall((STATIC / "reports.html").read_text().split("<body>")[1])
