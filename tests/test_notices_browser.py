"""A delay notice in the widget, in headless Chromium against a real server: the unread badge
on the bubble at the customer's next visit, the card with three choices, and the choice made."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from chatserver.domain import protocol as p
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import agent_console
from tests.test_notices import customer, customer_token, delay, key

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def keep(shot: Path) -> None:
    """CHAT_SCREENSHOTS=1 copies a screenshot to docs/ (as tests/test_browser.py does)."""
    if os.environ.get("CHAT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / shot.name)


@pytest.fixture
def backend_kind() -> str:
    """The page does not depend on the store; tests/test_notices.py covers both backends."""
    return "sqlite"


async def test_the_widget_shows_a_delay_card_with_three_choices_and_the_one_clicked(
    server: Server, new_page: NewPage, tmp_path: Path
) -> None:
    writer = await key(server, "notices:write")
    async with httpx.AsyncClient(base_url=server.url) as http:
        sent = await http.post("/api/notices", headers=writer, json=delay(coupon="SORRY10"))
    assert sent.status_code == 201, sent.text

    # The customer comes back to the shop (signed in: the widget has their token).
    page = await new_page()
    saved = {"token": customer_token(server, "cust-7"), "cid": None, "events": [], "prev": [],
             "pending": [], "unread": 0, "open": False, "skipped": None}  # fmt: skip
    await page.add_init_script(
        f"localStorage.setItem('chatwidget:demo', {json.dumps(json.dumps(saved))});"
    )
    await page.goto(server.url + "/")
    await expect(page.locator(".badge")).to_have_text("1")
    await expect(page.locator(".bubble")).to_have_attribute(
        "aria-label", "Open chat, 1 unread message"
    )

    await page.locator(".bubble").click()
    card = page.locator(".notice-card")
    await expect(card.locator("h4")).to_have_text("Order 100234 is delayed")
    await expect(card).to_contain_text("held at customs")
    await expect(card).to_contain_text("SORRY10")
    buttons = card.locator("button.choice")
    await expect(buttons).to_have_text(["Keep waiting", "Faster shipping", "Cancel and refund"])
    await expect(page.locator(".badge")).to_be_hidden()
    await page.screenshot(path=str(tmp_path / "widget-delay-notice.png"))
    keep(tmp_path / "widget-delay-notice.png")

    await buttons.nth(1).click()
    await expect(card.locator(".chosen")).to_have_text(
        "Your choice: Faster shipping. Thank you, we are on it."
    )
    await expect(card.locator("button.choice")).to_have_count(0)
    entry = await server.hub.store.ledger.get("choices", "n-1")
    assert entry is not None and json.loads(entry.text)["choice"] == "faster_shipping"


CANNED = """
[[reply]]
shortcut = "late"
title = "About the delay"
text = "Hi {first_name}, your order {order} now arrives on {new_date}."
"""


async def test_a_canned_reply_missing_a_value_is_not_inserted_and_fills_once_known(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "canned.toml").write_text(CANNED, encoding="utf-8")
    server = await start_server(faq_dir=shop)
    console = await agent_console(new_page, server)
    shopper = await customer(server, "cust-7")
    await shopper.send(p.LeaveEmail(email="jane@example.com", name="Jane Doe"))
    await shopper.send(p.SendMessage(client_id="m1", text="Where is my kettle?"))
    await expect(console.locator(".msg.shopper")).to_have_count(1)

    reply = console.locator("#reply")
    await reply.press_sequentially("/lat")
    await reply.press("Tab")
    await expect(console.locator("#toast")).to_have_text(
        "Not inserted: this conversation has no value for {order}"
    )
    await expect(reply).to_have_value("/lat")

    writer = await key(server, "notices:write")
    async with httpx.AsyncClient(base_url=server.url) as http:
        sent = await http.post("/api/notices", headers=writer, json=delay())
    assert sent.status_code == 201
    await expect(console.locator(".sys", has_text="Shop notice")).to_have_count(1)
    await reply.fill("/lat")
    await reply.press("Tab")
    await expect(reply).to_have_value("Hi Jane, your order 100234 now arrives on 2027-01-15.")


async def test_the_admin_makes_a_key_sees_it_once_revokes_it_and_edits_a_notice_text(
    server: Server, new_page: NewPage, tmp_path: Path
) -> None:
    await server.hub.accounts.add("boss", "Boss", "secret-boss", role="admin")
    page = await new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(server.url + "/admin")
    await page.fill("#login-user", "boss")
    await page.fill("#login-password", "secret-boss")
    await page.click("#login-form button[type=submit]")
    await page.fill("#key-name", "Shop ERP")
    await page.click("#key-form button[type=submit]")
    await expect(page.locator("#key-secret")).to_contain_text("csk_")
    secret = (await page.locator("#key-secret").text_content() or "").split(": ")[-1]
    async with httpx.AsyncClient(base_url=server.url) as http:
        bearer = {"Authorization": f"Bearer {secret}"}
        assert (await http.post("/api/notices", headers=bearer, json=delay())).status_code == 201
        await page.locator("#key-list button", has_text="Revoke").click()
        await expect(page.locator("#key-list li.revoked")).to_have_count(1)
        refused = await http.post("/api/notices", headers=bearer, json=delay("n-2"))
        assert refused.status_code == 401

    await expect(page.locator("#nt-delayed-title")).to_have_value("Order {order} is delayed")
    await page.fill("#nt-delayed-title", "Order {order} is late {oops}")
    await page.click("#nt-form button[type=submit]")
    await expect(page.locator('[data-err="texts.delayed.title"]')).to_have_text(
        "{oops} is not a placeholder"
    )
    await page.fill("#nt-delayed-title", "Order {order} is running late")
    await page.click("#nt-form button[type=submit]")
    await expect(page.locator("#toast")).to_have_text("Saved.")
    await page.locator("#apikeys").screenshot(path=str(tmp_path / "admin-api-keys.png"))
    keep(tmp_path / "admin-api-keys.png")
    async with httpx.AsyncClient(base_url=server.url) as http:
        writer = await key(server, "notices:write")
        sent = await http.post("/api/notices", headers=writer, json=delay("n-3", "cust-9"))
    events = await server.hub.store.log.read(sent.json()["conversation_id"])
    assert json.loads(events[-1][1])["title"] == "Order 100234 is running late"
