"""The shopper widget on the demo page and the agent console, in headless Chromium, against a
real server: each side in its own browser context, waiting on what the page shows, never on time."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.browser_support import DESKTOP, PHONE, NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "docs" / "screenshots"
XSS = '<img src=x onerror="window.__xss=1"> <b>bold?</b>'


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_backends.py covers every backend."""
    return "sqlite"


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """The shop's canned replies without its FAQ, so every chat goes to a person."""
    folder = tmp_path / "shop"
    folder.mkdir()
    shutil.copy(REPO / "faq_data" / "canned.toml", folder / "canned.toml")
    return folder


async def agent_console(
    new_page: NewPage, server: Server, agent_id: str = "maria", **kw: object
) -> Page:
    """An agent logged in through the console's form and switched online."""
    if await server.hub.accounts.get(agent_id) is None:
        await server.hub.accounts.add(agent_id, agent_id.title(), "secret-" + agent_id, capacity=3)
    page = await new_page(**kw)
    await page.goto(server.url + "/console")
    await page.fill("input[name=username]", agent_id)
    await page.fill("input[name=password]", "secret-" + agent_id)
    await page.click("#login-form button[type=submit]")
    await page.click("[data-status=online]")
    await expect(page.locator("[data-status=online]")).to_have_attribute("aria-checked", "true")
    return page


async def shopper_page(new_page: NewPage, server: Server, **kw: object) -> Page:
    """A shopper on the demo product page with the chat panel open."""
    page = await new_page(**kw)
    await page.goto(server.url + "/")
    await page.locator(".bubble").click()
    await expect(page.locator(".panel")).to_be_visible()
    await expect(page.locator(".sub")).not_to_have_text("Connecting…")
    return page


async def both_sides(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> tuple[Server, Page, Page]:
    """A server for the test shop, an agent signed in to the console, a shopper on the demo page."""
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    return server, agent, await shopper_page(new_page, server)


async def shopper_says(page: Page, text: str) -> None:
    await page.locator(".compose textarea").fill(text)
    await page.locator(".compose textarea").press("Enter")
    await expect(page.locator(".msg.me").last).to_contain_text(text.split("\n")[0])


async def agent_says(page: Page, text: str) -> None:
    await page.locator("#reply").fill(text)
    await page.locator("#reply").press("Enter")
    await expect(page.locator(".msg.agent .text").last).to_have_text(text)


def frames_of(page: Page) -> list[str]:
    """Every websocket frame the page receives from now on."""
    frames: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


async def test_shopper_and_agent_chat_both_ways_with_context(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server, locale="de-AT", timezone_id="Europe/Vienna")
    await expect(shopper.locator(".sub")).to_have_text("We usually reply in under a minute")

    await shopper_says(shopper, "Does the Aurora run small?")
    await expect(agent.locator(".msg.shopper .text")).to_have_text("Does the Aurora run small?")
    await expect(agent.locator("#product")).to_contain_text("Aurora Packable Rain Jacket")
    await expect(agent.locator("#product")).to_contain_text("KB-AUR-2041")
    await expect(agent.locator("#shopper")).to_contain_text("Europe/Vienna")
    await expect(shopper.locator(".sub")).to_have_text("Maria is here to help")
    await expect(shopper.locator(".msg.me .tick")).to_have_text("Read")

    await agent.locator("#reply").press_sequentially("True to size")
    await expect(shopper.locator(".typing")).to_have_text("Maria is typing…")
    await agent.locator("#reply").fill("")
    await agent_says(agent, "It is true to size; M fits most.")
    reply = shopper.locator(".msg.them").last
    await expect(reply.locator(".text")).to_have_text("It is true to size; M fits most.")
    await expect(reply.locator(".who")).to_have_text("Maria")
    await expect(agent.locator(".msg.agent .tick")).to_have_text("Seen")

    await shopper.locator(".compose textarea").press_sequentially("Thanks")
    await expect(agent.locator("#shopper-typing")).to_be_visible()


async def test_the_widget_adds_no_global_to_the_shops_page(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    blank = await new_page()
    await blank.goto(server.url + "/static/console.css")
    before = set(await blank.evaluate("Object.keys(window)"))
    shopper = await shopper_page(new_page, server)
    added = set(await shopper.evaluate("Object.keys(window)")) - before
    assert await shopper.evaluate("typeof ChatCommon") == "undefined"
    assert added <= {"ChatWidget"}, added  # the one documented API: ChatWidget.identify


async def test_countdown_shows_and_turns_amber_then_red(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    shopper = await shopper_page(new_page, server)
    await expect(shopper.locator(".email")).to_be_visible()  # nobody online: the offline form
    await shopper_says(shopper, "Is express shipping to Norway possible?")
    await server.clock.advance(35)  # 25 s left of the 60 s target when the agent arrives
    agent = await agent_console(new_page, server)
    countdown = agent.locator(".chat-item .countdown")
    await expect(countdown).to_have_text(re.compile(r"^0:(2\d|1\d)$"))
    await expect(countdown).to_have_class(re.compile("amber"))
    await expect(agent.locator("#chat-countdown")).to_be_visible()
    await server.clock.advance(40)  # past the target: reload the console, which resumes the chat
    await agent.reload()
    await expect(countdown).to_have_class(re.compile("red"))
    await expect(countdown).to_have_text(re.compile(r"^late 0:\d\d$"))
    await agent_says(agent, "Yes, 2-3 days to Oslo.")
    await expect(countdown).to_be_hidden()


async def test_reload_and_navigation_resume_the_same_conversation(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    await shopper_says(shopper, "Where is order KB-1001?")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent_says(agent, "Let me look.")
    await expect(shopper.locator(".msg.them .text").last).to_have_text("Let me look.")

    await shopper.reload()
    await expect(shopper.locator(".msg.me .text")).to_have_text(["Where is order KB-1001?"])
    await expect(shopper.locator(".msg.them .text").last).to_have_text("Let me look.")
    await shopper.locator(".min").click()
    await agent_says(agent, "It left our warehouse today.")
    await expect(shopper.locator(".badge")).to_have_text("1")

    await shopper.goto(server.url + "/?colour=navy")  # another product page of the same shop
    await expect(shopper.locator(".badge")).to_have_text("1")
    await shopper.locator(".bubble").click()
    await expect(shopper.locator(".msg.them .text").last).to_have_text(
        "It left our warehouse today."
    )
    await expect(shopper.locator(".badge")).to_be_hidden()
    await shopper_says(shopper, "Great, thanks")
    await expect(agent.locator(".msg.shopper .text").last).to_have_text("Great, thanks")
    shopper_ids = server.hub.fanout.shopper_ids()
    assert len(shopper_ids) == 1
    assert len(await server.hub.store.records.of_shopper(shopper_ids[0])) == 1


async def test_message_typed_while_disconnected_is_sent_once(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    await shopper_says(shopper, "hello")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)

    await shopper.context.set_offline(True)
    for shopper_id in server.hub.fanout.shopper_ids():
        for session in server.hub.fanout.shopper_sessions(shopper_id):
            session.on_overflow()  # the server drops the socket (as a slow client would be)
    await expect(shopper.locator(".banner")).to_be_visible()
    await shopper_says(shopper, "typed while offline")
    await expect(shopper.locator(".msg.me .tick").last).to_have_text("Will send when back online")
    await shopper.context.set_offline(False)
    await expect(shopper.locator(".banner")).to_be_hidden(timeout=20_000)
    await expect(shopper.locator(".msg.me .tick").last).to_have_text(re.compile("Delivered|Read"))
    await expect(agent.locator(".msg.shopper .text")).to_have_text(["hello", "typed while offline"])
    logs = [
        await server.hub.store.log.read(c)
        for cs in (await server.hub.store.router.held()).values()
        for c in cs
    ]
    assert sum("typed while offline" in text for log in logs for _, text in log) == 1


async def test_markup_in_messages_shows_as_text_both_ways(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    _, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    await shopper_says(shopper, XSS)
    await expect(agent.locator(".msg.shopper .text")).to_have_text(XSS)
    await agent_says(agent, XSS)
    await expect(shopper.locator(".msg.them .text").last).to_have_text(XSS)
    for page in (agent, shopper):
        assert await page.evaluate("window.__xss") is None
        assert await page.locator(".text img, .text b").count() == 0


async def test_rating_after_the_chat_ends_is_stored(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    server, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    await shopper_says(shopper, "Do you ship to Canada?")
    await agent_says(agent, "Yes, in 4-7 days.")
    await agent.locator("#close-chat").click()
    await expect(agent.locator(".chat-item")).to_have_class(re.compile("closed"))

    await expect(shopper.locator(".rate")).to_be_visible()
    await shopper.locator(".rate .star").nth(3).click()
    await shopper.locator(".rate textarea").fill("Quick and clear")
    await shopper.locator(".rate button[type=submit]").click()
    await expect(shopper.locator(".log")).to_contain_text("Thanks for your feedback")
    await expect(agent.locator("#messages")).to_contain_text("Rated ★★★★☆")
    shopper_id = server.hub.fanout.shopper_ids()[0]
    [conversation_id] = await server.hub.store.records.of_shopper(shopper_id)
    record = await server.hub.journal.get(conversation_id)
    assert (record.rating, record.rating_comment) == (4, "Quick and clear")


async def test_private_notes_never_reach_the_shopper(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    _, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    frames = frames_of(shopper)
    await shopper_says(shopper, "My parcel is damaged")
    await agent.locator("[data-mode=note]").click()
    await agent.locator("#reply").fill("Refund approved by Tom, code R-77")
    await agent.locator("#reply").press("Enter")
    await expect(agent.locator(".msg.note .text")).to_have_text("Refund approved by Tom, code R-77")
    await agent.locator("#tag-input").fill("damaged")
    await agent.locator("#tag-input").press("Enter")
    await expect(agent.locator("#tags")).to_contain_text("damaged")
    await agent.locator("[data-mode=reply]").click()
    await agent_says(agent, "Sorry about that, a refund is on its way.")
    await expect(shopper.locator(".msg.them .text").last).to_have_text(
        "Sorry about that, a refund is on its way."
    )

    await shopper.reload()  # a replay must not bring it either
    frames += frames_of(shopper)
    await expect(shopper.locator(".msg.them .text").last).to_have_text(
        "Sorry about that, a refund is on its way."
    )
    await agent.reload()  # the agent's own replay does
    await expect(agent.locator(".msg.note .text")).to_have_text("Refund approved by Tom, code R-77")
    await expect(agent.locator("#tags")).to_contain_text("damaged")
    assert frames and not [f for f in frames if "R-77" in f or "note_added" in f or "damaged" in f]
    assert "R-77" not in await shopper.content()
    storage = await shopper.evaluate("JSON.stringify(localStorage)")
    assert "R-77" not in storage


async def test_canned_reply_is_inserted_with_its_shortcut(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path
) -> None:
    _, agent, shopper = await both_sides(start_server, new_page, shop_dir)
    await shopper_says(shopper, "Which size should I take?")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent.locator("#reply").press_sequentially("/si")
    await expect(agent.locator("#canned li.active")).to_contain_text("/size")
    await agent.locator("#reply").press("Tab")
    await expect(agent.locator("#reply")).to_have_value(
        re.compile("^The Aurora Packable Rain Jacket runs true to size")
    )


async def test_screenshots_of_widget_and_console(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    """Drives a realistic chat and keeps screenshots; CHAT_SCREENSHOTS=1 copies them to docs/."""
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server, viewport=DESKTOP)
    shopper = await shopper_page(new_page, server, locale="fr-FR", timezone_id="Europe/Paris")
    await shopper_says(shopper, "Hi! Is the Aurora jacket warm enough for Scotland in October?")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent.locator("#reply").press_sequentially("/hi")
    await agent.locator("#reply").press("Tab")
    await agent.locator("#reply").press("Backspace")
    await agent.locator("#reply").press_sequentially("Claire")
    await agent.locator("#reply").press("Enter")
    await agent_says(
        agent,
        "It is a shell, so it keeps wind and rain out; with a fleece under it you will be fine.",
    )
    await agent.locator("[data-mode=note]").click()
    await agent.locator("#reply").fill("Suggested the Hebrides fleece as an add-on")
    await agent.locator("#reply").press("Enter")
    await agent.locator("#tag-input").fill("sizing")
    await agent.locator("#tag-input").press("Enter")
    await agent.locator("[data-mode=reply]").click()
    await expect(agent.locator("#tags")).to_contain_text("sizing")
    await shopper_says(shopper, "Perfect, and can I return it if it doesn't fit?")
    await expect(agent.locator(".msg.shopper")).to_have_count(2)
    await expect(shopper.locator(".msg.me .tick").last).to_have_text("Read")
    await agent.locator("#reply").press_sequentially("Yes, returns are free")
    await expect(shopper.locator(".typing")).to_be_visible()

    shots = {
        "widget-desktop.png": shopper,
        "console-desktop.png": agent,
    }
    for name, page in shots.items():
        await page.screenshot(path=str(tmp_path / name))
    await shopper.set_viewport_size(PHONE)
    await shopper.screenshot(path=str(tmp_path / "widget-phone.png"))
    await shopper.locator(".min").click()
    await agent_says(agent, "Yes, returns are free within 30 days.")
    await expect(shopper.locator(".badge")).to_have_text("1")
    await shopper.screenshot(path=str(tmp_path / "widget-phone-closed.png"))
    await agent.set_viewport_size(PHONE)
    await agent.screenshot(path=str(tmp_path / "console-phone.png"))
    if os.environ.get("CHAT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, SCREENSHOTS / shot.name)
