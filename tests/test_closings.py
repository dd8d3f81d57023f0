"""Closing messages by situation: every widget language has each one, served for the console."""

from __future__ import annotations

import httpx

from chatserver.playbook.closings import SITUATIONS, closing_languages, closings_for
from tests.conftest import Server

WIDGET_LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pl", "pt", "ja", "zh-CN", "sv", "da", "ko"}


def test_every_widget_language_has_a_closing_for_each_situation() -> None:
    assert set(closing_languages()) == WIDGET_LANGUAGES
    for lang in WIDGET_LANGUAGES:
        closings = closings_for(lang).closings
        assert [c.situation for c in closings] == list(SITUATIONS), lang
        assert len({c.text for c in closings}) == len(SITUATIONS), lang


async def test_the_console_gets_every_languages_closings(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/api/playbook/closings")
    languages = {lang["lang"]: lang["closings"] for lang in answer.json()["languages"]}
    assert set(languages) == WIDGET_LANGUAGES
    assert languages["de"][0] == {
        "situation": "solved",
        "title": "Frage geklärt",
        "text": closings_for("de").closings[0].text,
    }
