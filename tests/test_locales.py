"""The locale tables of the widget, console and reports: every language complete, same placeholders,
plural forms for exactly the categories its language has (CLDR, via Babel), and the language menu
listing exactly the tables that ship."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

STATIC = Path(__file__).resolve().parent.parent / "chatserver" / "web" / "static"
LOCALES = STATIC / "locales"
TABLES = sorted(path.stem for path in LOCALES.glob("*.json"))
OTHERS = [tag for tag in TABLES if tag != "en"]
WIDGET_LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da", "ja", "zh-CN", "ko"}
CONSOLE_LANGUAGES = {"en", "zh-CN", "de", "fr", "es"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def table(tag: str) -> dict[str, Any]:
    loaded = json.loads((LOCALES / f"{tag}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def forms(value: Any) -> list[str]:
    """A plain text, or each plural form of an entry."""
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(value: Any) -> set[str]:
    return {name for text in forms(value) for name in PLACEHOLDER.findall(text)}


def categories(tag: str) -> set[str]:
    return set(Locale.parse(tag.replace("-", "_")).plural_form.tags) | {"other"}


def test_the_widget_and_console_languages_ship() -> None:
    assert set(TABLES) >= WIDGET_LANGUAGES | CONSOLE_LANGUAGES


@pytest.mark.parametrize("tag", OTHERS)
def test_a_table_has_every_english_key_and_no_other(tag: str) -> None:
    english, other = table("en"), table(tag)
    assert sorted(set(english) - set(other)) == [], "missing"
    assert sorted(set(other) - set(english)) == [], "not in en.json"


@pytest.mark.parametrize("tag", OTHERS)
def test_a_table_uses_the_same_placeholders_as_english(tag: str) -> None:
    english, other = table("en"), table(tag)
    wrong = {
        key: (sorted(placeholders(value)), sorted(placeholders(english[key])))
        for key, value in other.items()
        if key in english and placeholders(value) != placeholders(english[key])
    }
    assert wrong == {}


@pytest.mark.parametrize("tag", TABLES)
def test_plural_entries_have_exactly_the_categories_of_their_language(tag: str) -> None:
    english, other = table("en"), table(tag)
    wanted = categories(tag)
    for key, value in other.items():
        if isinstance(english.get(key), dict):
            assert isinstance(value, dict), f"{key} needs plural forms"
        if isinstance(value, dict):
            assert set(value) == wanted, key
            assert all(isinstance(text, str) and text for text in value.values()), key


@pytest.mark.parametrize("tag", OTHERS)
def test_a_table_is_written_in_its_language_not_copied_from_english(tag: str) -> None:
    english, other = table("en"), table(tag)
    same = [key for key, value in other.items() if value and value == english.get(key)]
    assert len(same) <= len(english) // 10, same


@pytest.mark.parametrize("tag", TABLES)
def test_texts_have_no_stray_spaces_or_markup(tag: str) -> None:
    for key, value in table(tag).items():
        for text in forms(value):
            assert isinstance(text, str), key
            assert text == text.strip() and "<" not in text, key


def test_the_language_menu_lists_exactly_the_shipped_tables_by_their_own_names() -> None:
    source = (STATIC / "chat-common.js").read_text(encoding="utf-8")
    block = re.search(r"var LANGUAGES = \{(.*?)\};", source, re.S)
    assert block is not None
    menu = dict(re.findall(r'"([\w-]+)": "([^"]+)"', block.group(1)))
    assert sorted(menu) == TABLES
    for tag, name in menu.items():
        base = tag.split("-")[0]
        own = Locale.parse(base).get_language_name(base)  # "Deutsch", "français", "中文"
        assert own is not None and own.lower() in name.lower(), (tag, name, own)
