"""The playbook in headless Chromium: a tone rule edited on /admin underlines in the console, the
console's "Close with..." picker, the widget's effort question, and the product chart on /reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import expect

from chatserver.domain import protocol as p
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_admin_api import call, login, state
from tests.test_admin_browser import admin_page
from tests.test_browser import agent_console, agent_says, shopper_page, shopper_says
from tests.test_playbook_reports import MONDAY, TUESDAY, seed
from tests.test_reports_browser import painted_pixels

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


async def test_a_rule_edited_on_admin_underlines_in_the_console(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await admin_page(new_page, server)
    section = admin.locator("#tone")
    await expect(section.locator("#tone-list li")).to_have_count(8)  # the shipped English rules
    await section.get_by_label("Pattern").fill("you (need")
    await section.get_by_label("Suggestion").fill("let me")
    await section.get_by_role("button", name="Save rule").click()
    await expect(section.locator("[data-err=pattern]")).to_contain_text("not a valid pattern")
    await section.get_by_label("Pattern").fill("not possible")
    await section.get_by_label("Why").fill("A dead end.")
    await section.get_by_role("button", name="Save rule").click()
    await expect(admin.locator("#toast")).to_contain_text("Rule saved")
    await expect(section.locator("#tone-list li")).to_have_count(9)
    await expect(section.locator("#tone-edited")).to_have_text("edited by the shop")
    await section.screenshot(path=str(tmp_path / "admin-tone.png"))

    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Can I swap the colour?")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent.locator("#reply").press_sequentially("Sorry, that is not possible.")
    await expect(agent.locator(".tone-flag u")).to_have_text("not possible")
    await expect(agent.locator(".tone-flag b")).to_have_text("let me")
    await agent.locator("#reply").press("Enter")
    await expect(shopper.locator(".msg").last).to_contain_text("not possible")

    # Closing: the picker offers the English closings; one goes into the reply box to send.
    await agent.locator("#closings").select_option(label="Ask for a rating")
    await expect(agent.locator("#reply")).to_have_value(re.compile("^Thanks for chatting"))
    await agent.locator("#reply").press("Enter")
    await expect(shopper.locator(".msg").last).to_contain_text("the stars below")
    await agent.screenshot(path=str(tmp_path / "console-closings.png"))
    [cid] = await server.hub.store.records.of_shopper(server.hub.fanout.shopper_ids()[0])
    record = await server.hub.journal.get(cid)
    assert record.tone_flagged == 1 and record.tone_by_agent == {"maria": [2, 1]}


async def test_closings_are_offered_in_the_conversations_language(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    maria = await server.hub.accounts.add("maria", "Maria", "secret-maria", capacity=3)
    await server.hub.accounts.save(maria.model_copy(update={"languages": ["en", "de"]}))
    agent = await agent_console(new_page, server)
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, locale="de-AT"))
    await shopper.expect("welcome")
    await shopper.send(p.SendMessage(client_id="s1", text="Wo ist mein Paket?"))
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent.locator("#closings").focus()
    options = agent.locator("#closings option")
    await expect(options).to_have_count(6)
    await expect(options.nth(2)).to_have_text("Wird geprüft")
    await agent.locator("#closings").select_option(label="Wird geprüft")
    await agent.locator("#reply").press("Enter")
    await shopper.expect("message_posted", author="agent")
    assert shopper.all("message_posted")[-1]["text"].startswith("Wir sehen uns das jetzt")


async def test_the_widget_asks_the_effort_question_after_the_rating(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Do you ship to Canada?")
    await agent_says(agent, "Yes, in 4-7 days.")
    await agent.locator("#close-chat").click()
    await expect(shopper.locator(".effort")).to_be_hidden()
    await shopper.locator(".rate .star").nth(4).click()
    await shopper.locator(".rate button[type=submit]").click()
    effort = shopper.locator(".effort")
    await expect(effort).to_contain_text("How easy was it to get help?")
    await shopper.screenshot(path=str(tmp_path / "widget-effort.png"))
    await effort.get_by_role("button", name="6 of 7").click()
    await expect(shopper.locator(".log")).to_contain_text("Thanks, that helps us improve.")
    await expect(effort).to_be_hidden()
    [cid] = await server.hub.store.records.of_shopper(server.hub.fanout.shopper_ids()[0])
    record = await server.hub.journal.get(cid)
    assert (record.rating, record.effort) == (5, 6)


async def test_a_shop_that_turns_the_effort_question_off_never_shows_it(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    admin = await login(server, "boss")
    body = {**(await state(server, admin))["shop"], "ask_effort": False}
    assert (await call(server, "PUT", "/api/admin/shop", admin, body)).status_code == 200
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "Do you ship to Canada?")
    await agent_says(agent, "Yes.")
    await agent.locator("#close-chat").click()
    await shopper.locator(".rate .star").nth(4).click()
    await shopper.locator(".rate button[type=submit]").click()
    await expect(shopper.locator(".log")).to_contain_text("Thanks for your feedback")
    await expect(shopper.locator(".effort")).to_be_hidden()


async def test_the_product_chart_is_drawn_with_the_product_that_stands_out(
    new_page: NewPage, server: Server, tmp_path: Path
) -> None:
    await seed(server.hub.store)
    await server.hub.accounts.add("mona", "Mona", "pw-mona-123", role="manager")
    page = await new_page(viewport={"width": 1300, "height": 1000})
    await page.goto(server.url + "/reports")
    await page.fill("#login [name=username]", "mona")
    await page.fill("#login [name=password]", "pw-mona-123")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("body[data-drawn=yes]")
    await page.fill("#from", MONDAY.isoformat())
    await page.fill("#to", TUESDAY.isoformat())
    await page.click("#refresh")
    await expect(page.locator("#products tr.stands-out")).to_have_count(1)
    await expect(page.locator("#products tr.stands-out")).to_contain_text("Kite P1")
    for canvas in ("chart-products", "chart-tone"):
        assert await painted_pixels(page, canvas) > 500, canvas
    colours = await page.evaluate(
        "Chart.getChart(document.getElementById('chart-products')).data.datasets[0].backgroundColor"
    )
    assert colours == ["#c62828", "#2f6fdb", "#2f6fdb", "#2f6fdb"]
    await expect(page.locator("#tone")).to_contain_text("26.7%")
    await expect(page.locator("#effort-topics")).to_contain_text("shipping-time")
    await (
        page.locator("#products")
        .locator("xpath=..")
        .screenshot(path=str(tmp_path / "products.png"))
    )
