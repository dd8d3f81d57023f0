"""Shoppers and agents chat through a real server: delivery, replay, identity, errors."""

from __future__ import annotations

import pytest

from chatserver.domain import protocol as p
from tests.conftest import Server


async def start_chat(server: Server, text: str = "hello", client_id: str = "m1") -> tuple:
    """A shopper sends a first message; returns (shopper, conversation_id)."""
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id=client_id, text=text))
    ack = await shopper.expect("ack", client_id=client_id)
    return shopper, ack["conversation_id"]


async def test_shopper_sends_agent_receives_and_replies(server: Server) -> None:
    agent = await server.agent("alice")
    shopper, conversation_id = await start_chat(server, "Where is my parcel?")
    assigned = await agent.expect("conversation_assigned", conversation_id=conversation_id)
    assert assigned["agent_id"] == "alice"
    await agent.expect("message_posted", author="shopper", text="Where is my parcel?")
    await shopper.expect("conversation_assigned", agent_name="Alice")

    await agent.send(
        p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Let me check.")
    )
    await agent.expect("ack", client_id="a1")
    reply = await shopper.expect("message_posted", author="agent")
    assert reply["text"] == "Let me check." and reply["author_name"] == "Alice"


async def test_events_have_consecutive_seq_and_server_time(server: Server) -> None:
    agent = await server.agent("alice")
    shopper, _ = await start_chat(server)
    await agent.expect("conversation_assigned")
    for i in range(3):
        await shopper.send(p.SendMessage(client_id=f"x{i}", text=f"more {i}"))
        await shopper.expect("ack", client_id=f"x{i}")
    await shopper.expect("message_posted", text="more 2")
    seqs = [f["seq"] for f in shopper.received if "seq" in f and f["type"] != "ack"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert all(f["ts"] == server.clock.now() for f in shopper.received if "ts" in f)


async def test_retried_client_id_is_stored_once_and_answered_with_original_seq(
    server: Server,
) -> None:
    agent = await server.agent("alice")
    shopper, conversation_id = await start_chat(server, "first", client_id="same")
    first = shopper.all("ack")[0]
    await shopper.send(p.SendMessage(client_id="same", text="first"))
    again = await shopper.expect("ack", client_id="same", duplicate=True)
    assert again["seq"] == first["seq"]
    await shopper.send(p.SendMessage(client_id="next", text="second"))
    await agent.expect("message_posted", text="second")
    assert [f["text"] for f in agent.all("message_posted")] == ["first", "second"]
    log = await server.hub.store.log.read(conversation_id)
    assert sum('"text":"first"' in text for _, text in log) == 1


async def test_reconnect_with_last_seq_replays_later_events_once_in_order(server: Server) -> None:
    agent = await server.agent("alice")
    shopper, conversation_id = await start_chat(server)
    await agent.expect("conversation_assigned")
    token = shopper.all("welcome")[0]["token"]
    last = max(f["seq"] for f in shopper.received if f["type"] == "message_posted")
    await shopper.close()

    for i in range(3):
        await agent.send(
            p.SendMessage(conversation_id=conversation_id, client_id=f"a{i}", text=f"reply {i}")
        )
        await agent.expect("ack", client_id=f"a{i}")

    again = await server.shopper(token=token, last_seq=last)
    await again.expect("message_posted", text="reply 2")
    replayed = [f for f in again.received if "seq" in f and f["type"] != "ack"]
    assert [f["seq"] for f in replayed] == list(range(last + 1, last + 1 + len(replayed)))
    assert [f["text"] for f in replayed if f["type"] == "message_posted"] == [
        "reply 0",
        "reply 1",
        "reply 2",
    ]


async def test_reload_with_token_resumes_the_same_conversation(server: Server) -> None:
    shopper, conversation_id = await start_chat(server)
    token = shopper.all("welcome")[0]["token"]
    await shopper.close()
    reloaded = await server.shopper(token=token)
    welcome = reloaded.all("welcome")[0]
    assert [c["conversation_id"] for c in welcome["conversations"]] == [conversation_id]
    await reloaded.expect("message_posted", text="hello")
    await reloaded.send(p.SendMessage(client_id="m2", text="still here"))
    assert (await reloaded.expect("ack", client_id="m2"))["conversation_id"] == conversation_id


async def test_shopper_cannot_touch_another_shoppers_conversation(server: Server) -> None:
    _, theirs = await start_chat(server, "my secret order 1234")
    intruder = await server.shopper()
    await intruder.send(p.Typing(conversation_id=theirs))
    error = await intruder.expect("error", code="not_your_conversation")
    assert theirs in error["message"]
    await intruder.send(p.SendMessage(client_id="i1", text="hi", conversation_id=theirs))
    await intruder.send(p.SendMessage(client_id="i2", text="mine"))
    ack = await intruder.expect("ack", client_id="i2")
    assert ack["conversation_id"] != theirs
    assert not [f for f in intruder.received if "secret" in str(f.get("text"))]


async def test_forged_shopper_token_is_refused_and_socket_closed(server: Server) -> None:
    client = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await client.send(p.Hello(version=p.PROTOCOL_VERSION, token="forged.token.value"))
    error = await client.expect("error", code="unauthorized")
    assert "token" in error["message"]
    await client.ws.wait_closed()
    assert client.ws.close_code == 1008


async def test_agent_socket_refuses_missing_and_wrong_token(server: Server) -> None:
    for token in (None, "not-a-session"):
        client = await server.raw("/ws/agent")
        await client.send(p.Hello(version=p.PROTOCOL_VERSION, token=token))
        await client.expect("error", code="unauthorized")
        await client.ws.wait_closed()
        assert client.ws.close_code == 1008


async def test_agent_login_over_http_gives_a_token_the_socket_accepts(server: Server) -> None:
    import httpx

    await server.hub.accounts.add("bob", "Bob", "correct horse")
    async with httpx.AsyncClient(base_url=server.url) as http:
        wrong = await http.post("/api/login", json={"username": "bob", "password": "nope"})
        assert wrong.status_code == 401 and "password" in wrong.json()["error"]
        bad = await http.post("/api/login", content=b"{")
        assert bad.status_code == 400
        ok = await http.post("/api/login", json={"username": "bob", "password": "correct horse"})
    assert ok.status_code == 200
    client = await server.raw("/ws/agent")
    await client.send(p.Hello(version=p.PROTOCOL_VERSION, token=ok.json()["token"]))
    welcome = await client.expect("welcome")
    assert welcome["user_id"] == "bob" and welcome["name"] == "Bob"


async def test_shopper_socket_refuses_cross_site_origin(server: Server) -> None:
    for origin in ("https://evil.example", None):
        client = await server.raw("/ws/shopper", origin=origin)
        error = await client.expect("error", code="unauthorized")
        assert "origin" in error["message"]
        await client.ws.wait_closed()
        assert client.ws.close_code == 1008


async def test_allow_listed_shop_origin_is_accepted(start_server) -> None:
    server = await start_server(allowed_origins=["https://shop.example"])
    client = await server.raw("/ws/shopper", origin="https://shop.example")
    await client.send(p.Hello(version=p.PROTOCOL_VERSION))
    await client.expect("welcome")


async def test_first_frame_must_be_hello(server: Server) -> None:
    client = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await client.send(p.SendMessage(client_id="m", text="hi"))
    error = await client.expect("error", code="invalid_frame")
    assert "hello" in error["message"]
    await client.send(p.Hello(version=p.PROTOCOL_VERSION))
    await client.expect("welcome")


async def test_unsupported_protocol_version_is_named(server: Server) -> None:
    client = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await client.send(p.Hello(version=99))
    error = await client.expect("error", code="invalid_frame")
    assert "version 99" in error["message"]
    await client.send(p.Hello(version=1))
    error = await client.expect("error", code="invalid_frame")
    assert "version 1 is not supported; use 3" in error["message"]


async def test_a_version_2_client_still_served(server: Server) -> None:
    """A widget of the previous version, still in a shopper's cache, keeps chatting."""
    client = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await client.send(p.Hello(version=2))
    await client.expect("welcome")
    await client.send(p.SendMessage(client_id="m1", text="hello from an old widget"))
    await client.expect("ack")


async def test_bad_frames_get_clear_errors_and_socket_stays_usable(server: Server) -> None:
    shopper = await server.shopper()
    cases = [
        ('{"type": "dance"}', "unknown frame type 'dance'"),
        ("{not json", "not valid JSON"),
        ('{"type": "send_message", "text": "hi"}', "'client_id' is missing"),
        ('{"type": "send_message", "client_id": "c", "text": ""}', "'text'"),
        (
            '{"type": "transfer", "conversation_id": "c", "to_agent": "x"}',
            "unknown frame type 'transfer'",
        ),
        ("[1, 2]", "JSON object"),
        ('{"type": "send_message", "client_id": "c", "text": "x", "admin": true}', "'admin'"),
    ]
    for raw, expected in cases:
        await shopper.send(raw)
        error = await shopper.expect("error", code="invalid_frame")
        assert expected in error["message"], (raw, error)
    await shopper.send(p.SendMessage(client_id="ok", text="after all that"))
    await shopper.expect("ack", client_id="ok")


async def test_oversized_frame_is_refused_by_name_and_socket_stays_usable(server: Server) -> None:
    shopper = await server.shopper()
    big = (
        p.SendMessage(client_id="big", text="x" * 1999)
        .model_dump_json()
        .replace('"x', '"' + "y" * 3000 + "x")
    )
    await shopper.send(big)
    error = await shopper.expect("error", code="frame_too_large")
    assert "limit is 4096" in error["message"]
    await shopper.send(p.SendMessage(client_id="small", text="fine"))
    await shopper.expect("ack", client_id="small")


async def test_flood_is_rate_limited_and_socket_stays_usable(start_server) -> None:
    server = await start_server(rate_limit_per_s=5, rate_limit_burst=5)
    shopper = await server.shopper()
    for _ in range(10):
        await shopper.send(p.Typing(is_typing=True))
    error = await shopper.expect("error", code="rate_limited")
    assert "slow down" in error["message"]


async def test_binary_frame_is_refused_with_a_reason(server: Server) -> None:
    shopper = await server.shopper()
    await shopper.ws.send(b"\x00\x01")
    error = await shopper.expect("error", code="invalid_frame")
    assert "text" in error["message"]


async def test_typing_reaches_the_other_side(server: Server) -> None:
    agent = await server.agent("alice")
    shopper, conversation_id = await start_chat(server)
    await agent.expect("conversation_assigned")
    await shopper.send(p.Typing(is_typing=True))
    await agent.expect(
        "typing_notice", role="shopper", is_typing=True, conversation_id=conversation_id
    )
    await agent.send(p.Typing(conversation_id=conversation_id, is_typing=True))
    await shopper.expect("typing_notice", role="agent")


async def test_a_new_visitors_hello_reads_nothing_and_keeps_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page view that opens the chat for the first time costs no store read, so the store
    keeps nothing in memory per visitor; a returning visitor's hello reads their list."""
    records = server.hub.store.records
    asked: list[str] = []
    of_shopper, latest_revised = records.of_shopper, records.latest_revised
    in_latest = False  # the port's default latest_revised reads of_shopper: one read, not two

    async def counted(shopper_id: str) -> list[str]:
        if not in_latest:
            asked.append(shopper_id)
        return await of_shopper(shopper_id)

    async def counted_latest(
        shopper_id: str,
    ) -> tuple[str, dict[str, str] | None, int | None] | None:
        nonlocal in_latest
        asked.append(shopper_id)
        in_latest = True
        try:
            return await latest_revised(shopper_id)
        finally:
            in_latest = False

    monkeypatch.setattr(records, "of_shopper", counted)
    monkeypatch.setattr(records, "latest_revised", counted_latest)
    tokens = []
    for _ in range(20):
        client = await server.raw("/ws/shopper", origin=server.settings.base_url)
        await client.send(p.Hello(version=p.PROTOCOL_VERSION))
        tokens.append((await client.expect("welcome"))["token"])
        await client.close()
    assert asked == []
    back = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await back.send(p.Hello(version=p.PROTOCOL_VERSION, token=tokens[0]))
    await back.expect("welcome")
    assert len(asked) == 1
