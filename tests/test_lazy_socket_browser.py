"""The widget opens its socket only when needed, in headless Chromium against a real server: a
page view with no history costs no socket, opening the chat opens one, a reload with an open
conversation reconnects at once; and a message refused as ``overloaded`` is sent again by itself."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import agent_console, agent_says, backend_kind, shop_dir, shopper_says

__all__ = ["backend_kind", "shop_dir"]  # fixtures shared with tests/test_browser.py

pytestmark = pytest.mark.browser


def shopper_sockets(server: Server) -> int:
    """Shopper sockets open on the server now."""
    return int(server.hub.metrics.connections.labels("shopper")._value.get())


async def product_page(new_page: NewPage, server: Server) -> tuple[Page, list[str]]:
    """A shopper on the demo product page, and the sockets the page opens (their URLs)."""
    page = await new_page()
    opened: list[str] = []
    page.on("websocket", lambda ws: opened.append(ws.url))
    await page.goto(server.url + "/")
    await expect(page.locator(".bubble")).to_be_visible()
    return page, opened


async def test_a_page_view_opens_no_socket_until_the_chat_opens_or_a_chat_is_to_follow(
    start_server: ServerFactory, new_page: NewPage, shop_dir: object
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    page, opened = await product_page(new_page, server)
    await page.evaluate("1")  # the widget has started: it would have opened its socket by now
    assert opened == [] and shopper_sockets(server) == 0 and not server.hub.fanout.shopper_ids()

    await page.locator(".bubble").click()
    await expect(page.locator(".sub")).to_have_text("We usually reply in under a minute")
    assert len(opened) == 1 and shopper_sockets(server) == 1
    await shopper_says(page, "Is the navy one in stock?")
    await expect(agent.locator(".msg.shopper .text")).to_have_text(["Is the navy one in stock?"])
    await page.locator(".min").click()

    # Another product page: the conversation is open, so the widget follows it at once.
    await page.reload()
    await expect(page.locator(".bubble")).to_be_visible()
    await server.until(lambda: _true(shopper_sockets(server) == 1))
    assert len(opened) == 2
    await agent_says(agent, "Yes, in all sizes.")
    await expect(page.locator(".badge")).to_have_text("1")  # without opening the chat
    await page.locator(".bubble").click()
    await expect(page.locator(".msg.them .text").last).to_have_text("Yes, in all sizes.")

    # The chat ends: the next page view costs no socket again.
    await page.locator(".end").click()
    await expect(page.locator(".rate")).to_be_visible()
    await page.locator(".min").click()
    await page.reload()
    await expect(page.locator(".bubble")).to_be_visible()
    await page.evaluate("1")
    await server.until(lambda: _true(shopper_sockets(server) == 0))
    assert len(opened) == 2


async def _true(value: bool) -> bool:
    return value


async def test_a_message_refused_as_overloaded_is_sent_again_after_the_hint(
    start_server: ServerFactory, new_page: NewPage, shop_dir: object
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    page, _ = await product_page(new_page, server)
    await page.locator(".bubble").click()
    await expect(page.locator(".sub")).not_to_have_text("Connecting…")

    probe = server.hub._lag_probe
    assert probe is not None
    probe.cancel()  # this test says how far behind the server is
    for _ in range(100):
        server.hub.admission.observe(1.0)
    await page.locator(".compose textarea").fill("Anyone there?")
    await page.locator(".compose textarea").press("Enter")
    await server.until(lambda: _true(server.hub.admission.refused >= 1))
    await expect(page.locator(".msg.me .tick").last).to_have_text("Sending…")
    (shopper_id,) = server.hub.fanout.shopper_ids()
    assert not await server.hub.store.records.of_shopper(shopper_id)  # nothing stored

    await server.clock.advance(server.hub.admission.recover_s)  # the load has gone
    await expect(agent.locator(".msg.shopper .text")).to_have_text(["Anyone there?"])
    await expect(page.locator(".msg.me .tick").last).to_have_text(re.compile("Delivered|Read"))
    (conversation_id,) = await server.hub.store.records.of_shopper(shopper_id)
    log = await server.hub.store.log.read(conversation_id)
    assert sum("Anyone there?" in text for _, text in log) == 1  # stored once
