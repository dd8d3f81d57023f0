"""The reports page in a real browser: a manager logs in and the charts are drawn."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from chatserver.domain import protocol as p
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server

pytestmark = pytest.mark.browser

CHARTS = ("chart-response", "chart-agents", "chart-csat", "chart-hours")


@pytest.fixture
def backend_kind() -> str:
    return "sqlite"


async def answered_chat(server: Server, wait_s: float) -> None:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q", text="Hello?"))
    conversation_id = (await shopper.expect("ack", client_id="q"))["conversation_id"]
    await server.clock.advance(wait_s)
    agent = await server.agent("alice", capacity=1)
    await agent.expect("conversation_assigned", conversation_id=conversation_id)
    await agent.send(p.SendMessage(conversation_id=conversation_id, client_id="a", text="Hi!"))
    await agent.expect("ack", client_id="a")
    await agent.send(p.CloseConversation(conversation_id=conversation_id))
    await shopper.expect("conversation_closed")
    await shopper.send(p.Rate(score=5, comment="quick"))
    await shopper.expect("rating_given")


async def painted_pixels(page: Page, canvas_id: str) -> int:
    return int(
        await page.evaluate(
            """(id) => {
                const canvas = document.getElementById(id);
                const chart = Chart.getChart(canvas);
                if (!chart || !chart.data.datasets.length) return 0;
                const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
                let painted = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
                return painted;
            }""",
            canvas_id,
        )
    )


async def test_manager_logs_in_and_sees_the_charts_drawn(new_page: NewPage, server: Server) -> None:
    await answered_chat(server, 20)
    await server.hub.accounts.add("mona", "Mona", "pw-mona-123", role="manager")
    page = await new_page()
    await page.goto(server.url + "/reports")
    await page.fill("#login [name=username]", "mona")
    await page.fill("#login [name=password]", "pw-mona-123")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("body[data-drawn=yes]")
    for canvas_id in CHARTS:
        assert await painted_pixels(page, canvas_id) > 500, canvas_id
    headline = await page.inner_text("#headline")
    assert "100%" in headline and "20" in headline
    assert "quick" in await page.inner_text("#comments")
    await page.wait_for_function(
        "document.getElementById('live').textContent.includes('Agents online')"
    )


async def test_an_agent_is_told_reports_are_for_managers(new_page: NewPage, server: Server) -> None:
    await server.hub.accounts.add("sam", "Sam", "pw-sam-1234", role="agent")
    page = await new_page()
    await page.goto(server.url + "/reports")
    await page.fill("#login [name=username]", "sam")
    await page.fill("#login [name=password]", "pw-sam-1234")
    await page.click("#login button[type=submit]")
    await page.wait_for_function(
        "document.getElementById('error').textContent.includes('managers')"
    )


async def test_the_page_speaks_the_browsers_language(new_page: NewPage, server: Server) -> None:
    await server.hub.accounts.add("sam", "Sam", "pw-sam-1234", role="agent")
    page = await new_page(locale="de-DE")
    await page.goto(server.url + "/reports")
    assert await page.inner_text("#login button[type=submit]") == "Anmelden"
    assert await page.get_attribute("#login [name=username]", "placeholder") == "Benutzername"
    await page.fill("#login [name=username]", "sam")
    await page.fill("#login [name=password]", "pw-sam-1234")
    await page.click("#login button[type=submit]")
    await page.wait_for_function(
        "document.getElementById('error').textContent"
        " === 'Der Bericht konnte nicht geladen werden: Berichte sind nur für Manager und Admins.'"
    )
    assert await page.title() == "Berichte"
    assert await page.inner_text("#refresh") == "Anzeigen"
