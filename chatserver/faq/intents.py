"""Recognise what is not a FAQ question: asking for a person, greetings, and thanks.

The phrases are data, per language, in `chatserver/faq/lang/<code>.toml` ([intents]).
"""

from __future__ import annotations

from chatserver.faq.language import Intent, available_languages, load_language

__all__ = ["Intent", "detect"]


def detect(text: str, lang: str | None = None) -> Intent | None:
    """Return the intent of a message, or None if it may be a FAQ question.

    With `lang`, that language's phrases are read first, then English's (shoppers mix in
    English: "agent please"). Without it, a hand-off request in any known language counts, and
    greetings and thanks are read in English. A hand-off request wins over everything else.
    """
    if lang is not None:
        found = load_language(lang).intent(text)
        if found is Intent.HANDOFF or lang == "en":
            return found
        english = load_language("en").intent(text)
        return english if english is Intent.HANDOFF else found or english
    english = load_language("en").intent(text)
    if english is not None:
        return english
    for code in available_languages():
        if code != "en" and load_language(code).intent(text) is Intent.HANDOFF:
            return Intent.HANDOFF
    return None
