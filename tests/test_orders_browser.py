"""The demo in Chromium: log in as the demo customer, ask where the order is in English and in
German, and see its real status and tracking link; the agent sees the order beside the chat."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import agent_console

pytestmark = pytest.mark.browser

FAQ = Path(__file__).resolve().parent.parent / "faq_data"
TRACKING = "https://www.dhl.com/track?id=JD0146000123"
SHOTS = Path("/tmp/h17-shots")


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_order_bot.py runs on both backends."""
    return "sqlite"


async def logged_in_shopper(new_page: NewPage, url: str, locale: str) -> Page:
    """The demo page with the demo customer logged in and the chat open."""
    page = await new_page(locale=locale)
    await page.goto(url + "/")
    login = page.locator("#demo-login")
    await expect(login).to_have_text("Log in as demo customer")
    await login.click()
    await expect(login).to_have_text("Log out (Jane Doe)")
    await page.locator(".bubble").click()
    await expect(page.locator(".panel")).to_be_visible()
    return page


async def ask(page: Page, text: str) -> None:
    await page.locator(".compose textarea").fill(text)
    await page.locator(".compose textarea").press("Enter")


async def test_the_demo_customer_asks_where_their_order_is_in_english_and_german(
    start_server: ServerFactory, new_page: NewPage
) -> None:
    server = await start_server(faq_dir=FAQ)  # the demo shop: demo orders and demo login on
    SHOTS.mkdir(exist_ok=True)

    english = await logged_in_shopper(new_page, server.url, "en-GB")
    await ask(english, "where is my order?")
    answer = english.locator(".msg.bot").last
    await expect(answer).to_contain_text("Order 100234: shipped")
    await expect(answer).to_contain_text(TRACKING)
    await english.screenshot(path=str(SHOTS / "widget-en.png"))

    german = await logged_in_shopper(new_page, server.url, "de-DE")
    await expect(german.locator(".msg.bot").first).to_contain_text("Order 100234")  # her chat
    await ask(german, "Wo ist meine Bestellung?")
    antwort = german.locator(".msg.bot").last
    await expect(antwort).to_contain_text("Bestellung 100234: versandt")
    await expect(antwort).to_contain_text(TRACKING)
    await german.screenshot(path=str(SHOTS / "widget-de.png"))

    await ask(german, "I want to talk to a real person please")
    agent = await agent_console(new_page, server)
    await expect(agent.locator("#chat-title")).to_have_text(
        re.compile(r"^Jane Doe")
    )  # then the language badge
    orders = agent.locator("#orders")
    await expect(orders).to_contain_text("Order 100234")
    await expect(orders).to_contain_text("Shipped")
    await expect(orders.locator("a.order-track").first).to_have_attribute("href", TRACKING)
    await expect(agent.locator("#shopper")).to_contain_text("jane@example.com")
    await agent.screenshot(path=str(SHOTS / "console.png"))

    await english.locator("#demo-login").click()  # logging out: a guest again, no order data
    await expect(english.locator("#demo-login")).to_have_text("Log in as demo customer")
    await expect(english.locator(".msg.bot")).to_have_count(0)


async def test_the_admin_makes_a_new_identity_secret_and_sets_the_order_connector(
    start_server: ServerFactory, new_page: NewPage
) -> None:
    server = await start_server(faq_dir=FAQ)
    await server.hub.accounts.add("ada", "Ada", "secret-ada", role="admin")
    page = await new_page()
    await page.goto(server.url + "/console")
    token = server.hub.tokens.new_session("ada")
    await page.evaluate("token => localStorage.setItem('console:token', token)", token)
    await page.goto(server.url + "/admin#integrations")
    await expect(page.locator("#identity-state")).to_contain_text("demo's identity secret")
    await page.locator("#identity-rotate").click()
    secret = page.locator("#identity-secret")
    await expect(secret).to_be_visible()
    assert len(await secret.input_value()) >= 40
    await expect(page.locator("#identity-state")).to_have_text("An identity secret is set.")
    await page.fill("#o-url", "https://shop.example/api/chat/orders/")
    await page.click("#orders-form button[type=submit]")
    await expect(page.locator('#orders-form [data-err="url"]')).to_contain_text("{order}")
    await page.locator("#integrations").screenshot(path=str(SHOTS / "admin.png"))
