"""Closing messages by situation: every FAQ language has each one, served for the console."""

from __future__ import annotations

import httpx

from chatserver.playbook.closings import SITUATIONS, closing_languages, closings_for
from tests.conftest import Server

FAQ_LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pl", "pt", "ja", "zh-CN"}


def test_every_faq_language_has_a_closing_for_each_situation() -> None:
    assert set(closing_languages()) == FAQ_LANGUAGES
    for lang in FAQ_LANGUAGES:
        closings = closings_for(lang).closings
        assert [c.situation for c in closings] == list(SITUATIONS), lang
        assert len({c.text for c in closings}) == len(SITUATIONS), lang


async def test_the_console_gets_every_languages_closings(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/api/playbook/closings")
    languages = {lang["lang"]: lang["closings"] for lang in answer.json()["languages"]}
    assert set(languages) == FAQ_LANGUAGES
    assert languages["de"][0] == {
        "situation": "solved",
        "title": "Frage geklärt",
        "text": closings_for("de").closings[0].text,
    }
