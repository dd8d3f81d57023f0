"""Browser fixtures: Debian's Chromium driven by Playwright, one browser per test, fresh contexts."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 820}
PHONE = {"width": 390, "height": 760}

NewPage = Callable[..., Awaitable[Page]]


def chromium_path() -> str:
    """Debian's Chromium (Playwright's own download does not work here); scripts/test.sh installs it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run scripts/test.sh, or apt-get install chromium")
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """Open a page in a context of its own (a separate person: own storage, own cookies)."""
    contexts = []

    async def open_page(
        viewport: dict[str, int] | None = None,
        locale: str = "en-GB",
        timezone_id: str = "Europe/London",
    ) -> Page:
        context = await browser.new_context(
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale=locale,
            timezone_id=timezone_id,
            device_scale_factor=1,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()
