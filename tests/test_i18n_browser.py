"""The widget and the console in the shopper's and the agent's own language, in headless Chromium:
locale tables, plurals and dates by the browser's Intl, and a language switched live."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import DESKTOP, NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import agent_console, shopper_says

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
FAQ = REPO / "faq_data"
SCREENSHOTS = REPO / "docs" / "screenshots"


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_backends.py covers every backend."""
    return "sqlite"


async def widget_on(new_page: NewPage, server: Server, lang: str | None, **kw: object) -> Page:
    """A shopper on the demo page, declared in ``lang`` as a shop's page in that language would be
    (``<html lang>``; None keeps the demo's English), with the chat panel open."""
    page = await new_page(**kw)
    if lang is not None:
        # Set as the parser creates <html>, before the widget's script runs. (A page served by
        # page.route cannot open the socket: Chromium's local network access checks block it.)
        await page.add_init_script(
            "new MutationObserver(function (m, o) { if (document.documentElement) {"
            f" document.documentElement.lang = {lang!r}; o.disconnect(); }} }})"
            ".observe(document, { childList: true });"
        )
    await page.goto(server.url + "/")
    await page.locator(".bubble").click()
    await expect(page.locator(".panel")).to_be_visible()
    return page


async def star_labels(page: Page) -> list[str | None]:
    stars = page.locator(".stars input")
    return [await stars.nth(i).get_attribute("aria-label") for i in range(5)]


async def test_the_widget_speaks_german_on_a_german_page(
    start_server: ServerFactory, new_page: NewPage
) -> None:
    server = await start_server(faq_dir=FAQ)
    page = await widget_on(new_page, server, "de", locale="de-DE", timezone_id="Europe/Berlin")
    await expect(page.locator(".sub")).to_have_text("Unser Assistent antwortet sofort")
    greeting = page.locator(".msg.them .text").first
    await expect(greeting).to_contain_text("Hallo! Ich bin der Kitebay-Assistent")
    await expect(page.locator(".compose textarea")).to_have_attribute(
        "placeholder", "Nachricht schreiben…"
    )
    await expect(page.locator(".lang-menu")).to_have_value("de")

    await shopper_says(page, "Welche Zahlungsarten gibt es bei euch?")
    answer = page.locator(".msg.bot").last
    await expect(answer.locator(".text")).to_contain_text("Wir akzeptieren Visa")
    await expect(answer.locator(".who")).to_have_text("Assistent")
    # The fake clock starts on a Friday at 09:00 in Berlin: the date is Intl's, in German.
    assert re.fullmatch(
        r"Freitag, \d{1,2}\. \w+ \d{4} um 09:00",
        await answer.locator("time").get_attribute("title") or "",
    )
    await expect(answer.locator("time")).to_have_text("09:00")

    await page.locator(".end").click()
    await expect(page.locator(".rate")).to_be_visible()
    assert await star_labels(page) == ["1 Stern", "2 Sterne", "3 Sterne", "4 Sterne", "5 Sterne"]
    await page.locator(".rate .skip").click()

    # Three hours later the earlier chat is "vor 3 Stunden", by Intl.RelativeTimeFormat.
    await server.clock.advance(3 * 3600)
    await page.reload()
    await expect(page.locator(".sub")).to_have_text("Chat beendet")
    await shopper_says(page, "Hallo, ich bin wieder da")
    await expect(page.locator(".divider")).to_have_text(
        "Ihr früheres Gespräch steht oben · vor 3 Stunden"
    )


async def test_the_widget_speaks_japanese_on_a_japanese_page(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=FAQ)
    page = await widget_on(new_page, server, "ja", locale="ja-JP", timezone_id="Asia/Tokyo")
    await expect(page.locator(".sub")).to_have_text("アシスタントがすぐにお答えします")
    await expect(page.locator(".msg.them .text").first).to_contain_text("Kitebayのアシスタントです")
    await expect(page.locator(".lang-menu option:checked")).to_have_text("日本語")

    await shopper_says(page, "支払い方法は何がありますか？")
    answer = page.locator(".msg.bot").last
    await expect(answer.locator(".text")).to_contain_text("ご利用いただけます")
    # Friday 09:00 in Berlin is Friday 17:00 in Tokyo.
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日金曜日 17:00",
        await answer.locator("time").get_attribute("title") or "",
    )
    await page.screenshot(path=str(tmp_path / "widget-ja.png"))

    await page.locator(".end").click()
    await expect(page.locator(".rate")).to_be_visible()
    await expect(page.locator(".rate p")).to_have_text("今回の対応はいかがでしたか？")
    assert await star_labels(page) == [f"星{n}つ" for n in range(1, 6)]
    keep(tmp_path, "widget-ja.png")


async def test_the_shopper_switches_language_live_and_it_is_remembered(
    start_server: ServerFactory, new_page: NewPage
) -> None:
    server = await start_server(faq_dir=FAQ)
    page = await widget_on(new_page, server, None, locale="en-GB")
    await expect(page.locator(".sub")).to_have_text("Our assistant answers right away")
    await shopper_says(page, "paypal?")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("We accept Visa")

    await page.locator(".lang-menu").select_option(label="Deutsch")
    await expect(page.locator(".sub")).to_have_text("Unser Assistent antwortet sofort")
    await expect(page.locator(".end")).to_have_text("Chat beenden")
    await expect(page.locator(".msg.them .text").first).to_contain_text(
        "Hallo! Ich bin der Kitebay-Assistent"
    )
    await expect(page.locator(".msg.bot .who").first).to_have_text("Assistent")
    # The conversation now speaks German: the same short question gets the German answer.
    await shopper_says(page, "paypal?")
    await expect(page.locator(".msg.bot .text").last).to_contain_text("Wir akzeptieren Visa")

    await page.reload()  # the panel stays open, in the language picked
    await expect(page.locator(".panel")).to_be_visible()
    await expect(page.locator(".sub")).to_have_text("Unser Assistent antwortet sofort")
    await expect(page.locator(".lang-menu")).to_have_value("de")

    # Polish counts need three forms; Intl.PluralRules picks them.
    await page.locator(".lang-menu").select_option(label="Polski")
    await page.locator(".end").click()
    await expect(page.locator(".rate p")).to_have_text("Jak nam poszło?")
    assert await star_labels(page) == [
        "1 gwiazdka",
        "2 gwiazdki",
        "3 gwiazdki",
        "4 gwiazdki",
        "5 gwiazdek",
    ]


async def test_the_console_in_chinese(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    shutil.copy(FAQ / "canned.toml", folder / "canned.toml")  # no FAQ: every chat goes to a person
    server = await start_server(faq_dir=folder)
    maria = await server.hub.accounts.add("maria", "Maria", "secret-maria", capacity=3)
    await server.hub.accounts.save(maria.model_copy(update={"languages": ["zh", "de", "en"]}))
    agent = await agent_console(new_page, server, viewport=DESKTOP)
    await agent.locator("#app .lang-menu").select_option(label="简体中文")
    await expect(agent.locator("[data-status=online]")).to_have_text("在线")
    await expect(agent.locator("#logout")).to_have_text("退出登录")
    await expect(agent.locator("#app .lang-menu")).to_have_value("zh-CN")

    shopper = await widget_on(new_page, server, "de", locale="de-DE", timezone_id="Europe/Berlin")
    await shopper_says(shopper, "Fällt die Aurora-Jacke klein aus?")
    await expect(agent.locator(".msg.shopper .text")).to_have_text(
        "Fällt die Aurora-Jacke klein aus?"
    )
    # The shopper's language and country, named by Intl in the agent's language.
    await expect(agent.locator("#chat-sub")).to_contain_text("德语")
    await expect(agent.locator("#chat-sub")).to_contain_text("德国")
    await expect(agent.locator("#chat-countdown")).to_have_text(re.compile(r"^\d{1,2}:\d{2}$"))
    await expect(agent.locator("#reply")).to_have_attribute("placeholder", re.compile("回复"))
    await agent.screenshot(path=str(tmp_path / "console-zh-CN.png"))
    keep(tmp_path, "console-zh-CN.png")


def keep(folder: Path, name: str) -> None:
    """CHAT_SCREENSHOTS=1 copies a screenshot into docs/screenshots/."""
    if os.environ.get("CHAT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / name, SCREENSHOTS / name)
