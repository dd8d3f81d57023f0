"""Shoppers and agents attach photos and PDFs over HTTP; both see them live; only they can read
them. Runs on both backends: files on disk (embedded) and in S3-compatible storage (Redis)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from chatserver.domain import protocol as p
from chatserver.store.redis import RedisStore
from tests._files import EXE, pdf, png
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests._s3 import s3_files, s3_url  # noqa: F401  (s3_url: a fixture, requested by name)
from tests.conftest import Client, Server, ServerFactory


@pytest.fixture
async def server(
    start_server: ServerFactory, backend_kind: str, request: pytest.FixtureRequest
) -> AsyncIterator[Server]:
    """A server whose attachments go to disk (embedded) or to a real S3 server (Redis)."""
    if backend_kind == "sqlite":
        yield await start_server(max_file_bytes=64 * 1024)
        return
    prefix = unique_prefix()
    files = s3_files(request.getfixturevalue("s3_url"))
    store = RedisStore(REDIS_URL, prefix=prefix, files=files)
    yield await start_server(store=store, max_file_bytes=64 * 1024)
    await drop_keys(prefix)


async def chat(server: Server) -> tuple[Client, str, str, Client]:
    """A shopper in a chat with agent alice: (shopper, token, conversation id, agent)."""
    agent = await server.agent("alice")
    shopper = await server.shopper()
    token = shopper.all("welcome")[0]["token"]
    await shopper.send(p.SendMessage(client_id="m1", text="My parcel arrived broken"))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    await agent.expect("conversation_assigned", conversation_id=conversation_id)
    return shopper, token, conversation_id, agent


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def upload(
    server: Server,
    conversation_id: str,
    token: str | None,
    data: Any,
    name: str = "parcel.png",
    **h: str,
) -> httpx.Response:
    headers = {**bearer(token), "X-File-Name": quote(name), **h}
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post(
            f"/api/conversations/{conversation_id}/files", content=data, headers=headers
        )


async def fetch(server: Server, url: str, token: str | None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.get(url, headers=bearer(token))


async def logged_types(server: Server, conversation_id: str) -> list[str]:
    return [
        json.loads(text)["type"] for _, text in await server.hub.store.log.read(conversation_id)
    ]


async def test_a_shoppers_photo_reaches_the_agent_live_and_only_they_can_read_it(
    server: Server, backend_kind: str, tmp_path: Path
) -> None:
    shopper, token, conversation_id, agent = await chat(server)
    photo = png()
    answer = await upload(server, conversation_id, token, photo, "Paket kaputt.png")
    assert answer.status_code == 201, answer.text
    event = answer.json()
    assert event["type"] == "file_attached" and event["author"] == "shopper"
    assert (event["name"], event["content_type"], event["size"]) == (
        "Paket kaputt.png", "image/png", len(photo),
    )  # fmt: skip
    seen = await agent.expect("file_attached", file_id=event["file_id"])
    assert seen == event
    assert (await shopper.expect("file_attached"))["url"] == event["url"]

    for reader in (token, server.hub.tokens.new_session("alice")):
        got = await fetch(server, event["url"], reader)
        assert got.status_code == 200 and got.content == photo
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith('inline; filename="Paket kaputt.png"')
    key = f"{conversation_id}/{event['file_id']}"
    assert await server.hub.store.files.get(key) == photo
    if backend_kind == "sqlite":  # the embedded store keeps them under the data dir
        assert (server.settings.data_dir / "files" / key).read_bytes() == photo


async def test_the_agent_attaches_a_pdf_and_the_shopper_downloads_it(server: Server) -> None:
    shopper, token, conversation_id, _agent = await chat(server)
    session = server.hub.tokens.new_session("alice")
    answer = await upload(server, conversation_id, session, pdf(), "return-label.pdf")
    assert answer.status_code == 201, answer.text
    event = await shopper.expect("file_attached", author="agent", author_name="Alice")
    assert event["content_type"] == "application/pdf"
    got = await fetch(server, event["url"], token)
    assert got.content == pdf() and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="return-label.pdf"')


async def test_a_disguised_program_is_refused_with_a_clear_error_and_nothing_is_kept(
    server: Server,
) -> None:
    _shopper, token, conversation_id, _ = await chat(server)
    answer = await upload(server, conversation_id, token, EXE, "photo.png",
                          **{"Content-Type": "image/png"})  # fmt: skip
    assert answer.status_code == 415
    assert answer.json()["error"] == (
        "only these files can be attached: JPEG, PNG, GIF, WEBP, PDF;"
        " its content is a Windows program"
    )
    assert "file_attached" not in await logged_types(server, conversation_id)
    # The shopper can still send a real photo right after.
    assert (await upload(server, conversation_id, token, png())).status_code == 201


async def answer_before_the_body_ends(server: Server, path: str, token: str) -> bytes:
    """Send twice the limit in chunks, without ever ending the body, and read the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
    writer.write((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
    body = png() + b"\x00" * (128 * 1024)
    for start in range(0, len(body), 8192):
        piece = body[start : start + 8192]
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    # The server stopped reading: what is still buffered would never be sent, and a plain close
    # would wait for it, leaving the socket open for the collector to find in a later test.
    writer.transport.abort()
    return status


async def test_an_oversized_file_is_refused_while_it_arrives_and_nothing_is_kept(
    server: Server,
) -> None:
    _, token, conversation_id, _ = await chat(server)
    declared = await upload(server, conversation_id, token, png() + b"\x00" * 70_000)
    assert declared.status_code == 413
    assert declared.json()["error"] == "the file is larger than the shop's limit of 0.0625 MB"
    # Without a Content-Length (chunked) the limit holds while the body streams in: the
    # refusal comes although the body never ends, so the server did not wait to read it whole.
    path = f"/api/conversations/{conversation_id}/files"
    assert (await answer_before_the_body_ends(server, path, token)).startswith(b"HTTP/1.1 413")
    assert "file_attached" not in await logged_types(server, conversation_id)


async def test_wrong_tokens_and_other_shoppers_are_refused(server: Server) -> None:
    _, token, conversation_id, _ = await chat(server)
    event = (await upload(server, conversation_id, token, png())).json()
    other = await server.shopper()
    other_token = other.all("welcome")[0]["token"]

    for reader, status in ((None, 401), ("forged", 401), (other_token, 403)):
        got = await fetch(server, event["url"], reader)
        assert got.status_code == status and got.content != png()
        attempt = await upload(server, conversation_id, reader, png())
        assert attempt.status_code == status, attempt.text
    assert (await fetch(server, event["url"], other_token)).json() == {
        "error": "this is not your conversation"
    }
    # An id that does not exist tells another shopper nothing more than one that does.
    missing = event["url"].replace(conversation_id, "c-nothing")
    assert (await fetch(server, missing, other_token)).status_code == 403
    gone = event["url"].replace(event["file_id"], "0" * 32)
    assert (await fetch(server, gone, token)).status_code == 404
    assert (await logged_types(server, conversation_id)).count("file_attached") == 1


async def test_only_the_agent_holding_the_chat_attaches_but_all_staff_read(server: Server) -> None:
    _, token, conversation_id, _ = await chat(server)
    event = (await upload(server, conversation_id, token, png())).json()
    await server.hub.accounts.add("bob", "Bob", "pw-bob")
    bob = server.hub.tokens.new_session("bob")
    refused = await upload(server, conversation_id, bob, png())
    assert refused.status_code == 409
    assert (await fetch(server, event["url"], bob)).content == png()


async def test_a_retried_upload_is_shown_once(server: Server) -> None:
    _shopper, token, conversation_id, _agent = await chat(server)
    first = await upload(server, conversation_id, token, png(), **{"X-Client-Id": "f1"})
    again = await upload(server, conversation_id, token, png(), **{"X-Client-Id": "f1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (await logged_types(server, conversation_id)).count("file_attached") == 1


async def test_the_shops_pages_may_upload_from_the_browser(server: Server) -> None:
    _, _token, conversation_id, _ = await chat(server)
    origin = server.settings.base_url
    async with httpx.AsyncClient(base_url=server.url) as http:
        path = f"/api/conversations/{conversation_id}/files"
        allowed = await http.options(path, headers={"Origin": origin})
        foreign = await http.options(path, headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "x-file-name" in allowed.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in foreign.headers


async def test_a_file_counts_as_a_message_for_the_response_clock(server: Server) -> None:
    shopper, token, conversation_id, _ = await chat(server)
    await server.clock.advance(12)
    session = server.hub.tokens.new_session("alice")
    assert (await upload(server, conversation_id, session, pdf(), "label.pdf")).status_code == 201
    answered = await server.hub.journal.get(conversation_id)
    assert answered.first_response_s == 12 and answered.clock_started is None
    assert (await shopper.expect("file_attached", author="agent"))["deadline"] is None

    await server.clock.advance(30)
    assert (await upload(server, conversation_id, token, png())).status_code == 201
    waiting = await server.hub.journal.get(conversation_id)
    assert waiting.clock_started == server.clock.now()
    photo = await shopper.expect("file_attached", author="shopper")
    assert photo["deadline"] == server.clock.now() + server.settings.response_target_s
    assert waiting.messages == 3
