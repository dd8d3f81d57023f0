"""The console's offline inbox and history in headless Chromium: an agent answers an offline
message by e-mail, finds a closed chat by its words, reads it, and opens an earlier conversation
from the details panel."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from chatserver.domain import protocol as p
from tests._files import png
from tests._smtp import Mailbox, body, smtp  # noqa: F401 (fixture)
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import agent_console
from tests.test_history import chat
from tests.test_inbox import leave_message, mail_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_inbox.py covers both backends."""
    return "sqlite"


async def test_an_agent_answers_an_offline_message_by_email_from_the_console(
    start_server: ServerFactory, new_page: NewPage, smtp: Mailbox, tmp_path: Path
) -> None:
    server = await start_server(**mail_settings(smtp.port, shop_email=""))
    jane, _ = await leave_message(server, "Is the oak table in stock?", "jane@example.com", "Jane")
    page = await agent_console(new_page, server)
    await page.click("#inbox-open")
    entry = page.locator("#inbox-list .pick")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text("Jane · jane@example.com")
    await expect(entry).to_contain_text("Is the oak table in stock?")
    await entry.click()
    await expect(page.locator("#past-view")).to_contain_text("Is the oak table in stock?")
    await page.fill("#inbox-reply textarea", "Yes, two left. Shall I reserve one?")
    await page.screenshot(path=str(tmp_path / "inbox.png"))
    await page.click("#inbox-reply button[type=submit]")
    await expect(page.locator("#reply-status")).to_have_text(
        "Reply sent by e-mail and added to the chat."
    )
    await expect(page.locator("#inbox-list .pick")).to_have_count(0)
    [mail] = await smtp.next(1)
    assert mail["To"] == "jane@example.com"
    assert body(mail).strip() == "Yes, two left. Shall I reserve one?"
    await jane.expect("message_posted", author="agent", text="Yes, two left. Shall I reserve one?")


async def test_a_refused_reply_shows_not_sent_yet_in_the_console(
    start_server: ServerFactory, new_page: NewPage, smtp: Mailbox
) -> None:
    server = await start_server(**mail_settings(smtp.port, shop_email=""))
    smtp.refuse = "451 4.3.0 mailbox busy"
    await leave_message(server, "Hello?", "jane@example.com", "Jane")
    page = await agent_console(new_page, server)
    await page.click("#inbox-open")
    await page.locator("#inbox-list .pick").click()
    await page.fill("#inbox-reply textarea", "Hi Jane")
    await page.click("#inbox-reply button[type=submit]")
    await expect(page.locator("#reply-status")).to_contain_text("not sent yet")
    await expect(page.locator("#unsent")).to_contain_text("jane@example.com")
    await expect(page.locator("#unsent")).to_contain_text("451")


async def test_an_agent_finds_a_closed_chat_reads_it_and_opens_earlier_conversations(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server()
    bob = await server.agent("bob", capacity=3)
    jane = await server.shopper()
    await chat(
        server, bob, "The vase arrived broken", jane, email="jane@example.com", name="Jane",
        tags=["damaged"], attach=png(),
    )  # fmt: skip
    await chat(server, bob, "Do you gift wrap?", tags=["gift"])
    await bob.send(p.SetStatus(status="offline"))
    await bob.expect("status_changed", status="offline")

    page = await agent_console(new_page, server)
    await page.click("#history-open")
    results = page.locator("#search-results .pick")
    await expect(results).to_have_count(2)  # newest first, without a word
    await page.fill("#search-q", "broken vase")
    await page.click("#search-form button[type=submit]")
    await expect(results).to_have_count(1)
    await results.click()
    view = page.locator("#past-view")
    await expect(view).to_contain_text("The vase arrived broken")
    await expect(view).to_contain_text("VIP, be quick")  # the staff note
    await expect(view).to_contain_text("damaged")
    await expect(view).to_contain_text("★★★★")
    await expect(view.locator("img")).to_have_count(1)  # the attached photo, as a thumbnail
    await page.screenshot(path=str(tmp_path / "history.png"))

    # The same shopper comes back: the console's "Earlier conversations" item opens read-only.
    await page.click("#offline-close")
    back = await server.shopper(token=jane.all("welcome")[0]["token"])
    await back.send(p.SendMessage(text="Me again", client_id="again"))
    await page.locator("#mine .pick").first.click()
    earlier = page.locator("#history [data-conversation-id]")
    await expect(earlier).to_have_count(1)
    await earlier.click()
    await expect(page.locator("#past-view")).to_contain_text("The vase arrived broken")
