"""Issue 12's dead ends in the widget and the console, in headless Chromium against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import (
    SCREENSHOTS,
    agent_console,
    agent_says,
    shopper_page,
    shopper_says,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_dead_ends.py runs on every backend."""
    return "sqlite"


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """A shop without a FAQ: every chat goes to a person."""
    folder = tmp_path / "shop"
    folder.mkdir()
    return folder


async def test_after_a_close_rating_is_optional_and_the_old_chat_stays_above(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    """Dead end 6: the message box was hidden until a rating was sent, even after a reload."""
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Do you ship to Canada?")
    await agent_says(agent, "Yes, in 4-7 days.")
    await agent.locator("#close-chat").click()

    await expect(shopper.locator(".rate")).to_be_visible()
    await expect(shopper.locator(".compose textarea")).to_be_visible()
    await shopper.locator(".rate .skip").click()
    await expect(shopper.locator(".rate")).to_be_hidden()
    await shopper.reload()
    await expect(shopper.locator(".panel")).to_be_visible()  # it was open: it stays open
    await expect(shopper.locator(".log")).to_contain_text("Yes, in 4-7 days.")
    await expect(shopper.locator(".rate")).to_be_hidden()

    await shopper_says(shopper, "And to Mexico?")
    await expect(shopper.locator(".sub")).to_contain_text("Maria")
    log = shopper.locator(".log")
    await expect(log).to_contain_text("Your earlier conversation is above")
    text = await log.inner_text()
    assert (
        text.index("Yes, in 4-7 days.")
        < text.index("earlier conversation")
        < text.index("And to Mexico?")
    )
    await shopper.screenshot(path=SCREENSHOTS / "widget-after-close.png")


async def test_with_nobody_online_the_widget_says_so_and_offers_email_then_goes_live(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    """Dead end 3: "number 1 in the queue" forever beside "our team is away"."""
    server = await start_server(faq_dir=shop_dir)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Is the 12 m kite in stock?")
    await expect(shopper.locator(".sub")).to_have_text("Nobody is online right now")
    await expect(shopper.locator(".email")).to_be_visible()
    await expect(shopper.locator(".sub")).not_to_contain_text("number")
    await shopper.screenshot(path=SCREENSHOTS / "widget-nobody-online.png")

    await server.agent("alice")  # someone comes online: the shopper sees it live
    await expect(shopper.locator(".sub")).to_contain_text("Alice")
    await expect(shopper.locator(".email")).to_be_hidden()
