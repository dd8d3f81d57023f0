"""The shopper's language in the pages: on every chat in the console, per language on /reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import REPO, agent_console, shopper_page, shopper_says
from tests.test_i18n_browser import keep
from tests.test_language_reports import seed

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; test_language_routing.py covers both backends."""
    return "sqlite"


async def test_the_console_shows_the_shoppers_language_with_its_name_on_hover(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=REPO / "faq_data")
    account = await server.hub.accounts.add("maria", "Maria", "secret-maria", capacity=1)
    await server.hub.accounts.save(account.model_copy(update={"languages": ["de", "en"]}))
    agent = await agent_console(new_page, server)

    # The shopper's browser says English, but they write German: the chat is German.
    german = await shopper_page(new_page, server, locale="en-GB")
    await shopper_says(german, "Hallo, wo ist meine Bestellung? Ich warte schon eine Woche.")
    badge = agent.locator("#mine .chat-item .lang")
    await expect(badge).to_have_text("DE")
    await expect(badge).to_have_attribute("title", "German")
    await expect(agent.locator("#chat-title .lang")).to_have_text("DE")

    # Maria is full: a Japanese shopper waits in the queue, marked as Japanese.
    japanese = await shopper_page(new_page, server, locale="ja-JP")
    await shopper_says(japanese, "注文した商品はいつ届きますか？")
    queued = agent.locator("#queue .lang")
    await expect(queued).to_have_text("JA")
    await expect(queued).to_have_attribute("title", "Japanese")
    await agent.screenshot(path=str(tmp_path / "console-languages.png"))


async def test_the_console_follows_a_language_the_shopper_picks_mid_chat(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=REPO / "faq_data")
    account = await server.hub.accounts.add("maria", "Maria", "secret-maria", capacity=2)
    await server.hub.accounts.save(account.model_copy(update={"languages": ["de", "fr"]}))
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server, locale="de-DE")
    await shopper_says(shopper, "Hallo, wo ist meine Bestellung? Ich warte schon eine Woche.")
    await expect(agent.locator("#mine .chat-item .lang")).to_have_text("DE")
    await expect(agent.locator("#chat-title .lang")).to_have_text("DE")

    await shopper.locator(".lang-menu").select_option(label="Français")
    for badge in (agent.locator("#mine .chat-item .lang"), agent.locator("#chat-title .lang")):
        await expect(badge).to_have_text("FR")
        await expect(badge).to_have_attribute("title", "French")
    await expect(agent.locator("#chat-sub")).to_contain_text("French")
    await expect(agent.locator("#messages .sys").last).to_have_text(
        "Language chosen by the shopper: French"
    )
    await agent.screenshot(path=str(tmp_path / "console-language-switch.png"))
    keep(tmp_path, "console-language-switch.png")

    await agent.reload()  # the log and the record both say French after a reload
    await expect(agent.locator("#chat-title .lang")).to_have_text("FR")
    await expect(agent.locator("#messages .sys", has_text="French")).to_have_count(1)


async def test_the_reports_page_shows_response_times_per_shopper_language(
    server: Server, new_page: NewPage, tmp_path: Path
) -> None:
    await seed(server.hub.store)
    await server.hub.accounts.add("mona", "Mona", "pw-mona-123", role="manager")
    page = await new_page()
    await page.goto(server.url + "/reports")
    await page.fill("#login [name=username]", "mona")
    await page.fill("#login [name=password]", "pw-mona-123")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("body[data-drawn=yes]")
    await page.fill("#from", "2026-06-01")
    await page.fill("#to", "2026-06-01")
    await page.click("#refresh")
    german = page.locator("#languages tr", has_text="German (de)")
    await expect(german.locator("td")).to_have_text(
        ["German (de)", "3", "2", "1", "20", "40", "66.7%"]
    )
    await expect(page.locator("#languages")).to_contain_text("Japanese (ja)")
    await expect(page.locator("#languages")).to_contain_text("(unknown)")
    await page.locator("#languages").screenshot(path=str(tmp_path / "report-languages.png"))
