"""The admin page in headless Chromium: changes an admin makes are what shoppers see, at once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import DESKTOP, NewPage, browser, new_page  # noqa: F401
from tests.conftest import Server, ServerFactory
from tests.test_browser import shopper_page, shopper_says

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def backend_kind() -> str:
    return "sqlite"


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    shutil.copytree(REPO / "faq_data", folder)
    return folder


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Where screenshots go; CHAT_SCREENSHOTS=1 copies them to docs/screenshots."""
    yield tmp_path
    if os.environ.get("CHAT_SCREENSHOTS"):
        for shot in tmp_path.glob("admin-*.png"):
            shutil.copy(shot, REPO / "docs" / "screenshots" / shot.name)


async def admin_page(new_page: NewPage, server: Server) -> Page:
    """The shop owner logged in on /admin."""
    if await server.hub.accounts.get("owner") is None:
        await server.hub.accounts.add("owner", "Owner", "secret-owner", role="admin")
    page = await new_page(viewport={"width": 1100, "height": 900})
    await page.goto(server.url + "/admin")
    await page.get_by_label("Username", exact=True).fill("owner")
    await page.get_by_label("Password", exact=True).fill("secret-owner")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#title")).to_have_text("Kitebay settings")
    return page


async def change_greeting(page: Page, text: str) -> None:
    await page.get_by_label("Greeting").fill(text)
    await page.get_by_role("button", name="Save texts").click()
    await expect(page.locator("#toast")).to_contain_text("Saved")


async def test_admin_changes_the_greeting_and_a_shopper_sees_it_without_a_restart(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, shots: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, server)
    await admin.screenshot(path=str(shots / "admin-desktop.png"))
    await change_greeting(admin, "Moin! The Kitebay crew answers here.")
    shopper = await shopper_page(new_page, server)
    await expect(shopper.locator(".panel")).to_contain_text("Moin! The Kitebay crew answers here.")
    await admin.locator("#texts").screenshot(path=str(shots / "admin-texts.png"))


async def test_bad_time_zone_and_overlapping_hours_are_shown_next_to_their_field(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, shots: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, server)
    await expect(admin.locator("#hours-now")).to_contain_text("Europe/Berlin")
    await admin.get_by_label("Time zone (e.g. Europe/Berlin)").fill("Europe/Atlantis")
    await admin.get_by_label("Tuesday").fill("08:00-20:00, 19:00-21:00")
    await admin.get_by_role("button", name="Save hours").click()
    await expect(admin.locator('[data-err="time_zone"]')).to_contain_text("unknown time zone")
    await admin.get_by_label("Time zone (e.g. Europe/Berlin)").fill("Europe/Berlin")
    await admin.get_by_role("button", name="Save hours").click()
    await expect(admin.locator('[data-err="hours"]')).to_contain_text("overlaps")
    await admin.locator("#hours").screenshot(path=str(shots / "admin-hours-error.png"))
    assert server.hub.settings.response_target_s == 60  # nothing half-saved
    assert (await server.hub.store.config.audit())[0].count("import") == 1


async def test_admin_adds_a_faq_entry_and_the_bot_answers_it(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, shots: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, server)
    await admin.get_by_role("button", name="New entry").click()
    await admin.get_by_label("Id (letters, digits, dashes)").fill("gift-wrap")
    await admin.get_by_label("Category", exact=True).fill("orders")
    await admin.locator("#faq-form").get_by_label("Title", exact=True).fill("Do you gift wrap?")
    await admin.get_by_label("Answer", exact=True).fill(
        "Yes: tick gift wrap at checkout, it costs 3 EUR."
    )
    await admin.get_by_label("Ways shoppers ask (one a line)").fill(
        "Do you gift wrap?\nCan you wrap my order as a present?\ngift wrapping"
    )
    await admin.get_by_role("button", name="Save entry").click()
    confirm = admin.get_by_role("button", name="Save anyway")
    saved = admin.locator("#toast", has_text="Entry saved")
    await expect(confirm.or_(saved)).to_be_visible(timeout=30_000)  # a check takes seconds
    if await confirm.is_visible():
        await confirm.click()
    await expect(saved).to_be_visible(timeout=30_000)
    await admin.get_by_label("Question").fill("can you gift wrap my order?")
    await admin.get_by_role("button", name="Ask the bot").click()
    await expect(admin.locator("#try-result")).to_contain_text("Answers with gift-wrap")
    await admin.locator("#faq").screenshot(path=str(shots / "admin-faq.png"))
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "can you gift wrap my order?")
    await expect(shopper.locator(".panel")).to_contain_text("it costs 3 EUR")


@pytest.mark.redis
@pytest.mark.parametrize("backend_kind", ["redis"])
async def test_on_redis_a_change_through_one_worker_is_live_on_the_other(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    one = await start_server(faq_dir=shop_dir)
    other = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, one)
    await change_greeting(admin, "Greetings from worker one.")

    async def applied() -> bool:  # the other worker rebuilds its bot (seconds on a loaded box)
        return other.hub.chats.bot.texts("en")[0] == "Greetings from worker one."

    await other.until(applied)
    shopper = await shopper_page(new_page, other)
    await expect(shopper.locator(".panel")).to_contain_text("Greetings from worker one.")


async def test_the_widget_takes_the_shops_colour_and_logo_from_admin(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    from tests.test_admin_api import call, login, state

    server = await start_server(faq_dir=shop_dir)
    admin = await login(server, "owner")
    body = (await state(server, admin))["shop"]
    logo = server.url + "/static/vendor/logo.png"  # any http(s) URL; the image need not load
    branded = {**body, "color": "#7c3aed", "logo_url": logo}
    assert (await call(server, "PUT", "/api/admin/shop", admin, branded)).status_code == 200
    shopper = await shopper_page(new_page, server)
    header = shopper.locator(".panel header")
    await expect(header).to_have_css("background-color", "rgb(124, 58, 237)")
    await expect(shopper.locator(".avatar img.logo")).to_have_attribute("src", logo)
    await expect(shopper.locator(".name")).to_have_text("Kitebay")  # the tag's own name wins


async def test_an_invited_agent_chooses_a_password_in_the_console(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, server)
    await admin.locator("#a-id").fill("nina")
    await admin.locator("#agent-form button[type=submit]").click()
    link = await admin.locator("#agent-invite").get_attribute("href")
    assert link and "/console#invite=" in link
    agent = await new_page()
    await agent.goto(link)
    await expect(agent.locator("input[name=username]")).to_be_hidden()
    await agent.locator("input[name=password]").fill("ninas-own-password")
    await agent.locator("#login-form button[type=submit]").click()
    await expect(agent.locator("[data-status=online]")).to_be_visible()
    assert "#invite=" not in agent.url
