"""Attachments in the widget and the console, in headless Chromium: a shopper's photo shows as
a thumbnail on both sides, an agent's PDF as a chip, and a disguised program is refused."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests._files import EXE, pdf, png
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import ServerFactory
from tests.test_browser import (  # noqa: F401 (fixtures)
    SCREENSHOTS,
    agent_console,
    backend_kind,
    shop_dir,
    shopper_page,
    shopper_says,
)

pytestmark = pytest.mark.browser


async def attach(page: Page, form: str, name: str, data: bytes, mime: str) -> None:
    """Choose a file in the form's attach dialog, as a person does."""
    files = page.locator(f"{form} .file-input")
    await files.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


async def drawn_width(image: Locator) -> int:
    """The width of the picture the browser decoded (0 if it could not draw it)."""
    await expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    width: int = await image.evaluate("img => img.decode().then(() => img.naturalWidth)")
    return width


async def snap(page: Page, name: str, tmp_path: Path) -> None:
    await page.screenshot(path=tmp_path / name)
    if os.environ.get("CHAT_SCREENSHOTS"):
        await page.screenshot(path=SCREENSHOTS / name)


async def test_photo_and_pdf_show_on_both_sides_and_a_disguised_file_is_refused(
    start_server: ServerFactory, new_page: NewPage, shop_dir: Path, tmp_path: Path
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await expect(shopper.locator(".attach")).to_be_hidden()  # nothing to attach to yet
    await shopper_says(shopper, "My parcel arrived broken")
    await expect(agent.locator(".msg.shopper .text")).to_have_text("My parcel arrived broken")

    await attach(shopper, ".compose", "parcel.png", png(240, 160), "image/png")
    assert await drawn_width(shopper.locator(".msg.me .file-thumb img")) == 240
    assert await drawn_width(agent.locator(".msg.file.shopper .file-thumb img")) == 240
    await expect(agent.locator(".msg.file.shopper .file-thumb")).to_have_attribute(
        "title", "parcel.png"
    )

    await attach(agent, "#composer", "return-label.pdf", pdf(), "application/pdf")
    chip = shopper.locator(".msg.them .file-chip")
    await expect(chip.locator(".file-name")).to_have_text("return-label.pdf")
    await expect(chip.locator(".file-size")).to_have_text("1 KB")
    await expect(shopper.locator(".msg.them.file .who")).to_have_text("Maria")
    await expect(agent.locator(".msg.file.agent .file-chip .file-name")).to_have_text(
        "return-label.pdf"
    )
    async with shopper.expect_download() as download:
        await chip.click()
    assert (await download.value).suggested_filename == "return-label.pdf"

    await attach(shopper, ".compose", "photo.png", EXE, "image/png")
    await expect(shopper.locator(".notice")).to_have_text(
        "Could not attach photo.png: only these files can be attached: JPEG, PNG, GIF, WEBP,"
        " PDF; its content is a Windows program"
    )
    await expect(shopper.locator(".file-thumb")).to_have_count(1)
    await expect(agent.locator(".file-thumb")).to_have_count(1)
    await snap(shopper, "widget-attachments.png", tmp_path)
    await snap(agent, "console-attachments.png", tmp_path)

    # After a reload the files are still there, read with the shopper's own token.
    await shopper.reload()
    await shopper.locator(".bubble").click()
    assert await drawn_width(shopper.locator(".msg.me .file-thumb img")) == 240
    await expect(shopper.locator(".file-chip .file-name")).to_have_text("return-label.pdf")
