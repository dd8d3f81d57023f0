"""The widget resumes by conversation: its hello names each conversation it has with its
position, and a newer conversation (begun in another tab) shows from its start, on one socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import WebSocket, expect

from chatserver.domain import protocol as p
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import shop_dir, shopper_page, shopper_says  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_kind() -> str:
    return "sqlite"


async def test_a_newer_conversation_from_another_tab_shows_from_its_start(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    page = await shopper_page(new_page, server)
    await shopper_says(page, "Where is my parcel?")
    stored = (
        "(s => s.cid && !s.pending.length)(JSON.parse(localStorage.getItem('chatwidget:demo')))"
    )
    await page.wait_for_function(stored)  # acknowledged: the widget knows its conversation
    state = json.loads(await page.evaluate("localStorage.getItem('chatwidget:demo')") or "{}")
    token, old = state["token"], state["cid"]
    await page.goto("about:blank")  # this tab sleeps ...

    other = await server.shopper(token)  # ... while another tab ends the chat and starts anew
    await other.send(p.EndConversation())
    await other.expect("conversation_closed")
    await server.clock.advance(60)
    await other.send(p.SendMessage(client_id="o1", text="A new question"))
    newer = (await other.expect("ack", client_id="o1"))["conversation_id"]

    hellos: list[dict[str, object]] = []
    sockets: list[WebSocket] = []

    def on_socket(ws: WebSocket) -> None:
        sockets.append(ws)
        ws.on("framesent", lambda payload: hellos.append(json.loads(payload)))

    page.on("websocket", on_socket)
    await page.goto(server.url + "/")
    await expect(page.locator(".panel")).to_be_visible()  # it stayed open across pages
    await expect(page.locator(".msg.me .text").last).to_have_text("A new question", timeout=15_000)
    hello = [f for f in hellos if f.get("type") == "hello"]
    assert len(hello) == 1 and len(sockets) == 1  # resumed on its first socket
    positions = hello[0]["last_seqs"]
    assert isinstance(positions, dict) and list(positions) == [old] and positions[old] >= 2
    state = json.loads(await page.evaluate("localStorage.getItem('chatwidget:demo')"))
    assert state["cid"] == newer
