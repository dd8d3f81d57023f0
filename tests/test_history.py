"""History: agents find past conversations by the shopper's words, name, e-mail, tag or date,
and read one whole (notes, tags, rating), on both backends and after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chatserver.domain import protocol as p
from tests.conftest import Client, Server, ServerFactory

DAY = 86_400.0


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    await server.hub.accounts.add("carol", "Carol", "pw")
    auth = {"Authorization": f"Bearer {server.hub.tokens.new_session('carol')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth) as client:
        yield client


async def search(http: httpx.AsyncClient, q: str, **bounds: float) -> list[str]:
    response = await http.get("/api/history", params={"q": q, **bounds})
    assert response.status_code == 200, response.text
    return [r["conversation_id"] for r in response.json()["results"]]


async def chat(
    server: Server, bob: Client, shopper_text: str, shopper: Client | None = None, **extra: Any
) -> str:
    """A shopper's conversation with bob, tagged and noted, closed by bob and rated."""
    shopper = shopper or await server.shopper()
    await shopper.send(p.SendMessage(text=shopper_text, client_id="s1"))
    conversation_id = (await shopper.expect("ack", client_id="s1"))["conversation_id"]
    await bob.expect("conversation_assigned", conversation_id=conversation_id)
    if "email" in extra:
        await shopper.send(p.LeaveEmail(email=extra["email"], name=extra.get("name", "")))
        await shopper.expect("email_left")
    await bob.send(
        p.SendMessage(conversation_id=conversation_id, text="Happy to help", client_id="b1")
    )
    await bob.send(p.AddNote(conversation_id=conversation_id, text="VIP, be quick", client_id="n1"))
    if "attach" in extra:
        from tests.test_files import upload

        token = server.hub.tokens.new_session("bob")
        uploaded = await upload(server, conversation_id, token, extra["attach"], "parcel.png")
        assert uploaded.status_code == 201, uploaded.text
    await bob.send(p.SetTags(conversation_id=conversation_id, tags=extra.get("tags", [])))
    await bob.expect("tags_changed", conversation_id=conversation_id)
    await bob.send(p.CloseConversation(conversation_id=conversation_id))
    await shopper.expect("conversation_closed")
    await shopper.send(p.Rate(score=4, comment="quick"))
    await shopper.expect("rating_given")
    return conversation_id


@pytest.fixture
async def server(start_server: ServerFactory) -> Server:
    """Days pass in these tests: the agent stays signed in and connected throughout."""
    return await start_server(idle_timeout_s=0, session_max_age_s=30 * 86400)


async def test_past_chats_are_found_by_words_name_email_tag_and_date_and_read_whole(
    server: Server, http: httpx.AsyncClient
) -> None:
    bob = await server.agent("bob", capacity=3)
    start = server.clock.now()
    parcel = await chat(
        server, bob, "My parcel arrived damaged, the vase is broken",
        email="jane.doe@example.com", name="Jane Müller", tags=["damaged"],
    )  # fmt: skip
    await server.clock.advance(2 * DAY)
    sizes = await chat(server, bob, "Does the blue jacket run small?", tags=["sizing"])
    assert await search(http, "parcel broken") == [parcel]
    assert await search(http, "BROKEN vase") == [parcel]
    assert await search(http, "jane.doe@example.com") == [parcel]
    assert await search(http, "muller") == [parcel]
    assert await search(http, "sizing") == [sizes]
    assert await search(http, "jacket parcel") == []
    # Dates: everything, newest first; or only the first day.
    assert await search(http, "") == [sizes, parcel]
    assert await search(http, "", since=start, until=start + DAY) == [parcel]

    response = await http.get(f"/api/conversations/{parcel}")
    assert response.status_code == 200
    view = response.json()
    assert view["found"]["tags"] == ["damaged"] and view["found"]["rating"] == 4
    assert view["found"]["name"] == "Jane Müller" and view["rating_comment"] == "quick"
    assert [n["text"] for n in view["notes"] if n["type"] == "note_added"] == ["VIP, be quick"]
    texts = [e.get("text") for e in view["events"] if e["type"] == "message_posted"]
    assert texts == ["My parcel arrived damaged, the vase is broken", "Happy to help"]
    missing = await http.get("/api/conversations/c-nope")
    assert missing.status_code == 404


async def test_closed_chats_stay_findable_after_a_restart(
    start_server: Any, backend_kind: str, tmp_path: Any
) -> None:
    from chatserver.store.redis import RedisStore
    from chatserver.store.sqlite import SQLiteStore
    from tests._redis import REDIS_URL, drop_keys, unique_prefix

    prefix = unique_prefix()

    def store() -> Any:
        if backend_kind == "redis":
            return RedisStore(REDIS_URL, prefix=prefix)
        return SQLiteStore(tmp_path / "shared.sqlite3")

    first = await start_server(store=store())
    bob = await first.agent("bob")
    closed = await chat(first, bob, "Gift wrapping for order 77?", tags=["gift"])
    await first.hub.close()
    await first.hub.store.close()
    again = await start_server(store=store())
    await again.hub.accounts.add("carol", "Carol", "pw")
    auth = {"Authorization": f"Bearer {again.hub.tokens.new_session('carol')}"}
    async with httpx.AsyncClient(base_url=again.url, headers=auth) as http:
        assert await search(http, "gift wrapping") == [closed]
    if backend_kind == "redis":
        await drop_keys(prefix)
