"""Which of the shop's languages a shopper writes in: the script for Chinese and Japanese,
lingua-language-detector (restricted to the shop's languages, its models inside its wheel) for
the rest, and the widget's locale when the text is too short or too mixed to tell."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lingua import Language, LanguageDetectorBuilder

#: Our language codes and lingua's names for them.
LINGUA_NAMES = {
    "en": "ENGLISH",
    "de": "GERMAN",
    "fr": "FRENCH",
    "es": "SPANISH",
    "it": "ITALIAN",
    "nl": "DUTCH",
    "pl": "POLISH",
    "pt": "PORTUGUESE",
    "ja": "JAPANESE",
    "zh-CN": "CHINESE",
    "sv": "SWEDISH",
    "da": "DANISH",
    "cs": "CZECH",
}
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
#: Below this many letters a line says too little: the widget's locale decides if lingua
#: gives it some chance (see `LanguageDetector.detect`).
SHORT = 12
#: ... and at any length when lingua's best guess is this unsure.
UNSURE = 0.5
#: A runner-up language needs at least this share of the best one's confidence to be tried.
RUNNER_UP = 0.2
#: The locale's language must have at least this confidence to overrule lingua's best guess.
LOCALE_FLOOR = 0.05
#: A runner-up with at least this share of the best confidence is a near tie: close languages
#: (es, pt, it) share most words, and on a short line lingua cannot tell them apart.
TIE = 0.9


def language_of_locale(locale: str | None, languages: Sequence[str]) -> str | None:
    """The shop language a widget locale names: "de-AT" -> "de", "zh-Hans-CN" -> "zh-CN"."""
    if not locale:
        return None
    lowered = locale.replace("_", "-").lower()
    by_lower = {code.lower(): code for code in languages}
    if lowered in by_lower:
        return by_lower[lowered]
    base = lowered.split("-")[0]
    if base in by_lower:
        return by_lower[base]
    return next((code for code in languages if code.lower().split("-")[0] == base), None)


class LanguageDetector:
    """Detects the language of short chat lines among the shop's languages.

    Args:
        languages: the shop's language codes (English first), e.g. ["en", "de", "ja"].
        low_accuracy: lingua's low-accuracy mode (trigrams only): faster, worse on short text.
    """

    def __init__(self, languages: Sequence[str], low_accuracy: bool = False) -> None:
        self.languages = list(languages)
        self._by_lingua: dict[Language, str] = {}
        latin = []
        for code in self.languages:
            name = LINGUA_NAMES.get(code)
            if name is None or code in ("ja", "zh-CN"):
                continue
            language = getattr(Language, name)
            self._by_lingua[language] = code
            latin.append(language)
        self._detector = None
        if len(latin) >= 2:
            builder = LanguageDetectorBuilder.from_languages(*latin)
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            self._detector = builder.with_preloaded_language_models().build()
        self._latin = [self._by_lingua[language] for language in latin]

    def detect(self, text: str, locale: str | None = None) -> str:
        """Return the shop language of `text` (the first shop language when nothing tells)."""
        return self.ranked(text, locale)[0]

    def ranked(self, text: str, locale: str | None = None) -> list[str]:
        """The shop's languages likeliest first for `text` (only those with some chance)."""
        return [code for code, _ in self.scored(text, locale)]

    @staticmethod
    def is_tie(scored: list[tuple[str, float]]) -> bool:
        """Whether lingua's first two languages are a near tie (see `TIE`), not locale-ordered."""
        return len(scored) > 1 and scored[0][1] >= scored[1][1] >= TIE * scored[0][1]

    def scored(self, text: str, locale: str | None = None) -> list[tuple[str, float]]:
        """`ranked` with lingua's confidence for each (1.0 when the script or locale decides)."""
        local = language_of_locale(locale, self.languages)
        if _KANA.search(text) and "ja" in self.languages:
            return [("ja", 1.0)]
        if _HAN.search(text):
            chinese: list[str] = [code for code in ("zh-CN", "ja") if code in self.languages]
            if local in chinese:
                chinese.remove(local)
                chinese.insert(0, local)
            if chinese:
                return [(code, 1.0) for code in chinese]
        fallback = local if local in self._latin else (self._latin or self.languages)[0]
        if self._detector is None:
            return [(fallback, 1.0)]
        values = self._detector.compute_language_confidence_values(text)
        ranked = [(self._by_lingua[value.language], value.value) for value in values]
        if not ranked or ranked[0][1] <= 0:
            return [(fallback, 1.0)]
        letters = len(_LETTER.findall(text))
        top_code, top = ranked[0]
        if local is not None and local != top_code:
            # Under SHORT letters lingua's guesses are near chance ("Hallo" reads as English):
            # the widget's locale decides. Longer, it decides only when lingua is unsure.
            share = dict(ranked).get(local, 0.0)
            if letters < SHORT or (top < UNSURE and share >= LOCALE_FLOOR):
                ranked.sort(key=lambda item: item[0] != local)
                top = max(top, share)
        # Only languages with a real chance: the bot tries the runner-up when the first does not
        # match, and a line lingua calls English at 0.9 is not worth reading as German.
        return [
            (code, value) for code, value in ranked if value >= RUNNER_UP * top or code == local
        ]
