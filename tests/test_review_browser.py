"""The manager's side in headless Chromium: the review queue, scoring a chat on the rubric, the
cost of a resolution and the QA score on the reports page, and the playbook card on /admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chatserver.domain import protocol as p
from tests.browser_support import DESKTOP, NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_kind() -> str:
    """The pages do not depend on the store; tests/test_review.py covers both backends."""
    return "sqlite"


async def settled_chat(server: Server) -> str:
    """Alice settles a damaged order with a coupon (10% of 80 EUR), closes, the shopper rates 2."""
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="The kite came with a broken spar"))
    cid = str((await shopper.expect("ack", client_id="q1"))["conversation_id"])
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned", conversation_id=cid)
    options = [
        p.OfferedOption(kind="coupon", percent=10),
        p.OfferedOption(kind="partial_refund", percent=25),
    ]
    await alice.send(
        p.OfferResolutions(
            conversation_id=cid,
            client_id="o1",
            problem="damaged",
            order_value=80,
            currency="EUR",
            options=options,
        )
    )
    offer = await shopper.expect("resolutions_offered")
    await shopper.send(p.AcceptResolution(offer_seq=offer["seq"], kind="coupon"))
    await alice.expect("resolution_accepted")
    await alice.send(p.CloseConversation(conversation_id=cid))
    await shopper.expect("conversation_closed")
    await shopper.send(p.Rate(score=2))
    await shopper.expect("rating_given")
    return cid


async def signed_in(new_page: NewPage, server: Server, path: str) -> Page:
    await server.hub.accounts.add("mona", "Mona", "secret-mona", role="manager")
    page = await new_page(viewport=DESKTOP)
    await page.goto(server.url + path)
    await page.fill("input[name=username]", "mona")
    await page.fill("input[name=password]", "secret-mona")
    await page.click("#login button[type=submit]")
    return page


async def test_a_manager_reviews_a_chat_and_sees_its_cost_and_score_in_reports(
    start_server: ServerFactory, new_page: NewPage, tmp_path: Path
) -> None:
    server = await start_server()
    cid = await settled_chat(server)
    page = await signed_in(new_page, server, "/review")
    row = page.locator(f"#queue tr[data-conversation-id='{cid}']")
    await expect(row).to_contain_text("alice")
    await expect(row.locator(".reason")).to_have_text(["sample", "rated 1-2"])
    await row.locator("button").click()
    await expect(page.locator("#transcript")).to_contain_text("The kite came with a broken spar")
    await expect(page.locator("#rubric label")).to_have_text(
        ["accuracy", "attitude", "process", "resolution"]
    )
    await page.select_option("#score-accuracy", "4")
    await page.select_option("#score-process", "3")
    await page.fill("#score-form textarea", "Good ladder use; ask for a photo first.")
    await page.screenshot(path=str(tmp_path / "review.png"))
    await page.click("#score-form button[type=submit]")
    # (4 + 5 + 3 + 5) / 4
    await expect(page.locator("#score-done")).to_have_text("Saved: 4.25 out of 5.")
    await expect(row.locator("td").nth(4)).to_have_text("4.25")

    await page.goto(server.url + "/reports")
    resolutions = page.locator("#resolutions")
    await expect(resolutions.locator("tr").nth(1)).to_contain_text("damaged item")
    await expect(page.locator("#resolution-figures")).to_contain_text("10%")
    await expect(page.locator("#agents tr").nth(1)).to_contain_text("4.3 (1)")
    await page.locator("#resolutions").scroll_into_view_if_needed()
    await page.screenshot(path=str(tmp_path / "reports.png"))

    await page.goto(server.url + "/admin#playbook")
    await expect(page.locator("#pb-coupon-low")).to_have_value("10")
    await expect(page.locator("#pb-limit-agent")).to_have_value("50")
    await expect(page.locator("#pb-rubric")).to_have_value(
        "accuracy, attitude, process, resolution"
    )
    await expect(page.locator("#playbook button[type=submit]")).to_be_disabled()  # a manager
