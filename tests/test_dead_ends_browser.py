"""Issue 12's dead ends in the widget and the console, in headless Chromium against a real server."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.domain import protocol as p
from tests.browser_support import PHONE, NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import (
    SCREENSHOTS,
    agent_console,
    agent_says,
    shopper_page,
    shopper_says,
)

pytestmark = pytest.mark.browser


async def shot(page: Page, name: str, folder: Path) -> None:
    """Keep a screenshot (to look at); CHAT_SCREENSHOTS=1 writes it to docs/ as well."""
    await page.screenshot(path=folder / name)
    if os.environ.get("CHAT_SCREENSHOTS"):
        await page.screenshot(path=SCREENSHOTS / name)


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
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
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
    await shot(shopper, "widget-after-close.png", tmp_path)


async def test_with_nobody_online_the_widget_says_so_and_offers_email_then_goes_live(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    """Dead end 3: "number 1 in the queue" forever beside "our team is away"."""
    server = await start_server(faq_dir=shop_dir)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Is the 12 m kite in stock?")
    await expect(shopper.locator(".sub")).to_have_text("Nobody is online right now")
    await expect(shopper.locator(".email")).to_be_visible()
    await expect(shopper.locator(".sub")).not_to_contain_text("number")
    await shot(shopper, "widget-nobody-online.png", tmp_path)

    await server.agent("alice")  # someone comes online: the shopper sees it live
    await expect(shopper.locator(".sub")).to_contain_text("Alice")
    await expect(shopper.locator(".email")).to_be_hidden()


SPIES = """
window.__notes = [];
window.__beeps = 0;
function FakeNotification(title, options) { window.__notes.push(title + " | " + options.body); }
FakeNotification.prototype.close = function () {};
FakeNotification.permission = "granted";
FakeNotification.requestPermission = function () { return Promise.resolve("granted"); };
window.Notification = FakeNotification;
var realOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__beeps++; return realOscillator.call(this); };
"""


async def spied_console(new_page: NewPage, server: Server, **kw: object) -> Page:
    """The console with desktop notifications and the sound recorded (permission granted)."""
    await server.hub.accounts.add("maria", "Maria", "secret-maria", capacity=3)
    page = await new_page(**kw)
    await page.add_init_script(SPIES)
    await page.goto(server.url + "/console")
    await page.fill("input[name=username]", "maria")
    await page.fill("input[name=password]", "secret-maria")
    await page.click("#login-form button[type=submit]")
    return page


async def test_queue_shows_the_question_and_an_agent_takes_it_counters_stay_true(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await spied_console(new_page, server)
    await agent.click("[data-status=away]")  # not handed chats: she picks them
    await expect(agent.locator("#load")).to_have_text("0 of 3 chats")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="Where is my order 4711? It is late."))
    waiting = agent.locator("#queue .waiting")
    await expect(waiting.locator(".question")).to_have_text("Where is my order 4711? It is late.")
    await shot(agent, "console-queue-preview.png", tmp_path)
    await waiting.locator(".take").click()
    await expect(agent.locator("#queue .waiting")).to_have_count(0)
    await expect(agent.locator("#messages")).to_contain_text("Where is my order 4711?")
    await expect(agent.locator("#load")).to_have_text("1 of 3 chats")
    await shopper.expect("conversation_assigned", agent_name="Maria")
    await agent.locator("#close-chat").click()
    await expect(agent.locator("#load")).to_have_text("0 of 3 chats")


async def test_every_shopper_message_notifies_and_counts_unread_per_chat(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await spied_console(new_page, server)
    await agent.click("[data-status=online]")
    first, second = await server.shopper(), await server.shopper()
    await first.send(p.SendMessage(client_id="a", text="First shopper here"))
    await expect(agent.locator("#messages")).to_contain_text("First shopper here")  # selected
    await second.send(p.SendMessage(client_id="b", text="Second shopper, question one"))
    await second.expect("conversation_assigned")
    await second.send(p.SendMessage(client_id="c", text="Second shopper, question two"))
    unread = agent.locator(".chat-item:not(.selected) .unread")
    await expect(unread).to_have_text("2")
    notes = await agent.evaluate("window.__notes")
    assert [n.split(" | ")[1] for n in notes][-2:] == [
        "Second shopper, question one",
        "Second shopper, question two",
    ]
    assert await agent.evaluate("window.__beeps") >= 3  # one per shopper message
    await expect(agent).to_have_title(re.compile(r"^(\(\d\) New chat · )?\(2\) unread · "))


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, PHONE])
async def test_details_and_the_chat_list_are_reachable_at_every_width(
    start_server: ServerFactory,
    new_page: NewPage,
    shop_dir: Path,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await spied_console(new_page, server, viewport=viewport)
    await agent.click("[data-status=online]")
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Is this jacket warm?")
    await expect(agent.locator("#messages")).to_contain_text("Is this jacket warm?")
    await expect(agent.locator("#product")).to_be_hidden()
    await agent.locator("#details").click()
    await expect(agent.locator("#product")).to_contain_text("Aurora Packable Rain Jacket")
    name = "phone" if viewport == PHONE else "1024"
    await shot(agent, f"console-details-{name}.png", tmp_path)
    await agent.locator("#close-info").click()
    await expect(agent.locator("#product")).to_be_hidden()
    if viewport == PHONE:  # the list, then back to the chat
        await agent.locator("#back").click()
        await expect(agent.locator("#mine .chat-item")).to_be_visible()
        await shot(agent, "console-list-phone.png", tmp_path)
        await agent.locator("#mine .chat-item .pick").click()
        await expect(agent.locator("#reply")).to_be_visible()
