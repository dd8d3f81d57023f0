"""The resolution ladder in headless Chromium: a damaged-item chat (the bot matched the FAQ entry)
shows the ladder in the console's side panel; the agent offers two, the shopper picks one in the
widget, and the console shows it settled. Screenshots are kept in the test's folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser_support import DESKTOP, NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import agent_console, shopper_page, shopper_says

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
FAQ = REPO / "faq_data"


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_resolutions.py covers both backends."""
    return "sqlite"


async def test_the_console_ladder_offers_two_and_the_shopper_picks_one_in_the_widget(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "My item arrived damaged")
    await expect(shopper.locator(".msg.them.bot").last).to_contain_text("photo of the item")
    await shopper_says(shopper, "I want to talk to a real person please")

    agent = await agent_console(new_page, server, viewport=DESKTOP)
    ladder = agent.locator("#ladder")
    await expect(ladder.locator("h3")).to_have_text("Resolutions: damaged item")
    # cheapest first, the demo page's price prefilled, what each costs on this order
    names = ladder.locator(".res-step .res-name")
    await expect(names).to_have_text(
        ["Explain and reassure", "Coupon", "Partial refund", "Free resend", "Full refund"]
    )
    await expect(ladder.locator("input[name=order_value]")).to_have_value("89")
    await expect(ladder.locator("input[name=currency]")).to_have_value("EUR")
    await expect(ladder.locator(".res-step").nth(1).locator(".res-cost")).to_have_text("€8.90")
    # an agent's limit (50%) leaves the resend and full refund out of reach
    await expect(ladder.locator("input[name=resend]")).to_be_disabled()
    await expect(ladder.locator(".res-step").nth(3)).to_contain_text("Above your limit")

    await ladder.locator("input[name=coupon]").check()
    await ladder.locator("button[type=submit]").click()
    await expect(ladder.locator(".res-note")).to_have_text("Offer at least two resolutions.")
    await ladder.locator("input[name=partial_refund]").check()
    await ladder.locator(".res-step").nth(2).locator("input[type=number]").fill("30")
    await expect(ladder.locator(".res-step").nth(2).locator(".res-cost")).to_have_text("€26.70")
    await agent.screenshot(path=str(tmp_path / "console-ladder.png"))
    await ladder.locator("button[type=submit]").click()

    card = shopper.locator(".msg.offer")
    await expect(card.locator("button")).to_have_text(
        ["A coupon · €8.90", "A partial refund · €26.70"]
    )
    await shopper.screenshot(path=str(tmp_path / "widget-offer.png"))
    await card.locator("[data-resolution=partial_refund]").click()
    await expect(shopper.locator(".sys").last).to_have_text(
        "You chose: A partial refund (€26.70). Thank you!"
    )
    await expect(card.locator("button").first).to_be_disabled()

    await expect(ladder.locator(".res-settled")).to_have_text("Settled: Partial refund, €26.70")
    await expect(agent.locator("#messages .sys").last).to_have_text(
        "The shopper accepted: Partial refund (€26.70)"
    )
    await agent.screenshot(path=str(tmp_path / "console-ladder-settled.png"))
    if os.environ.get("CHAT_SCREENSHOTS"):
        for name in ("console-ladder.png", "widget-offer.png"):
            shutil.copy(tmp_path / name, REPO / "docs" / "screenshots" / name)
