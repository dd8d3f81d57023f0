"""The tone coach: the rules flag blame-shifting phrases per language; the console shows them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from chatserver.playbook.tone import Tone, book, check, languages, shipped
from tests.browser_support import NewPage, browser, new_page  # noqa: F401 (fixtures)
from tests.conftest import Server, ServerFactory
from tests.test_browser import agent_console, shop_dir, shopper_page, shopper_says  # noqa: F401


@pytest.mark.parametrize(
    ("text", "locale", "phrase"),
    [
        ("You need to send us a photo of the parcel first.", "en", "You need to"),
        ("As I already said, the refund takes 5 days.", "en-GB", "As I already said"),
        ("That is not our problem, talk to the courier.", "en", "That is not our problem"),
        ("Sie müssen das Formular selbst ausfüllen.", "de-AT", "Sie müssen"),
        ("Das ist nicht unser Problem.", "de", "Das ist nicht unser Problem"),
        ("Vous devez renvoyer le colis à vos frais.", "fr-FR", "Vous devez"),
        ("Tienes que llamar a la empresa de transporte.", "es", "Tienes que"),
        ("你必须先联系快递公司。", "zh-CN", "你必须"),
    ],
)
def test_blame_shifting_phrases_are_flagged_with_a_better_wording(
    text: str, locale: str, phrase: str
) -> None:
    [flag] = check(text, locale)
    assert flag.text == phrase and text[flag.start : flag.end] == phrase
    assert flag.suggestion


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("We can send a new one today, and I'll email you the tracking link.", "en"),
        ("Your parcel should arrive tomorrow.", "en"),
        ("Ihr Paket kommt morgen an, wir kümmern uns darum.", "de"),
        ("El paquete debe llegar mañana.", "es"),
        ("你得到退款了吗？", "zh-CN"),
    ],
)
def test_helpful_phrasing_is_left_alone(text: str, locale: str) -> None:
    assert check(text, locale) == []


_SAMPLES = [
    ("You need to send us a photo of the parcel first.", "en"),
    ("As I already said, the refund takes 5 days.", "en-GB"),
    ("Your parcel should arrive tomorrow.", "en"),
    ("Sie müssen das Formular selbst ausfüllen.", "de-AT"),
    ("Ihr Paket kommt morgen an, wir kümmern uns darum.", "de"),
    ("Vous devez renvoyer le colis à vos frais.", "fr-FR"),
    ("El paquete debe llegar mañana.", "es"),
    ("你必须先联系快递公司。", "zh-CN"),
    ("你得到退款了吗？", "zh-TW"),
    ("Tienes que llamar a la empresa de transporte.", "pt-BR"),
]


def test_the_servers_count_flags_exactly_what_the_console_underlines() -> None:
    """``flagged`` (the reports' count, one scan of all a language's rules at once) and
    ``check`` (every phrase, rule by rule) agree, also for a shop's rule that refers back to
    its own group (which joining the rules would renumber)."""
    tone = shipped()
    for text, locale in _SAMPLES:
        assert tone.flagged(text, locale) == bool(tone.check(text, locale)), (text, locale)
    echo = Tone.from_documents(
        {
            "tone.en.toml": '[[rule]]\npattern = "(you|they) must"\nsuggestion = "We can."\n'
            '[[rule]]\npattern = "(no)\\\\W+\\\\1"\nsuggestion = "Say it once."\n'
        }
    )
    assert echo.flagged("No, no, that is wrong.", "en")
    assert not echo.flagged("No, that is wrong.", "en")
    assert echo.check("No, no, that is wrong.", "en")[0].text == "No, no"


def test_at_least_english_german_french_spanish_and_chinese_are_shipped() -> None:
    assert {"en", "de", "fr", "es", "zh-CN"} <= set(languages())
    assert all(lang.rules for lang in book().languages)


async def test_the_console_gets_every_languages_rules(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        everything = (await http.get("/api/playbook/tone")).json()
        german = (await http.get("/api/playbook/tone", params={"lang": "de-CH"})).json()
    assert {lang["lang"] for lang in everything["languages"]} == set(languages())
    assert german["lang"] == "de" and german["rules"][0]["suggestion"]


@pytest.mark.browser
@pytest.mark.parametrize("backend_kind", ["sqlite"])
@pytest.mark.parametrize(
    ("text", "phrase", "suggestion"),
    [
        ("You need to restart the app, then it works.", "You need to", "we can / let me"),
        ("Sie müssen die App neu starten.", "Sie müssen", "wir können / ich kümmere mich"),
    ],
)
async def test_the_console_underlines_and_suggests_and_never_blocks_sending(
    start_server: ServerFactory,
    new_page: NewPage,
    shop_dir: Path,
    tmp_path: Path,
    backend_kind: str,
    text: str,
    phrase: str,
    suggestion: str,
) -> None:
    server = await start_server(faq_dir=shop_dir)
    agent = await agent_console(new_page, server)
    shopper = await shopper_page(new_page, server)
    await shopper_says(shopper, "The app crashes when I pay.")
    await expect(agent.locator(".msg.shopper")).to_have_count(1)
    await agent.locator("#reply").press_sequentially(text)
    await expect(agent.locator(".tone-flag u")).to_have_text(phrase)
    await expect(agent.locator(".tone-flag b")).to_have_text(suggestion)
    await agent.screenshot(path=str(tmp_path / "tone-coach.png"))
    await agent.locator("#reply").press("Enter")
    await expect(shopper.locator(".msg").last).to_contain_text(text)
    await expect(agent.locator(".tone-hint")).to_be_hidden()
