"""One language's way of writing, read from `chatserver/faq/lang/<code>.toml`: normalising,
stemming, concepts, and the intents (hand-off, greeting, thanks) the bot answers without the FAQ.

The word tables are data, not code: a language is added by writing its TOML file. European
languages stem with Snowball (`snowballstemmer`); Chinese and Japanese have no spaces, so their
"words" are character bigrams of the Han runs, whole katakana words and listed kana words.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import snowballstemmer  # type: ignore[import-untyped]  # ships no type hints

LANG_DIR = Path(__file__).resolve().parent / "lang"

_CONTRACTION = re.compile(r"n['’]t\b")
_APOSTROPHE = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEAT = re.compile(r"(\w)\1{2,}")
# A long run of digits is an order number, a postcode or a phone number: the digits say nothing
# about the question, and as they are they would only dilute the character n-grams.
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
# "2kg", "11am", "size42": a number written onto its unit reads as one unknown word otherwise.
_NUMBER_EDGE = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
# Letters that NFKD does not split into a base letter and an accent.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"})
#: What every long number becomes.
NUMBER = "0"
# Runs of one script in Chinese or Japanese text.
_CJK_RUN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]+)"
    r"|(?P<kata>[\u30a0-\u30ff\u31f0-\u31ffー]+)"
    r"|(?P<hira>[\u3040-\u309f]+)"
    r"|(?P<latin>[a-z0-9]+)"
)


class Intent(StrEnum):
    """A message kind the bot answers without the FAQ."""

    HANDOFF = "handoff"
    GREETING = "greeting"
    THANKS = "thanks"


@dataclass(frozen=True)
class Tuning:
    """How the matcher weighs and gates its signals in one language (see matcher.py)."""

    threshold: float = 0.65
    margin: float = 0.005
    single_word_margin: float = 0.05
    min_evidence: float = 1.6
    min_char_score: float = 0.3
    min_meaning_score: float = 0.70
    meaning_without_words: float = 0.85
    word_weight: float = 0.1
    char_weight: float = 0.2
    meaning_weight: float = 0.7
    embedding: bool = True


@dataclass(frozen=True)
class Intents:
    """The compiled patterns and word sets of one language's intents."""

    request: tuple[re.Pattern[str], ...] = ()
    bare: re.Pattern[str] | None = None
    frustration: re.Pattern[str] | None = None
    about_staff: re.Pattern[str] | None = None
    greeting_words: frozenset[str] = frozenset()
    thanks_words: frozenset[str] = frozenset()
    thanks_core: frozenset[str] = frozenset()
    ack_core: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Language:
    """Everything language-specific the matcher and the intents need, loaded from data."""

    code: str
    script: Literal["latin", "cjk"]
    stemmer: str = "none"
    suffixes: tuple[str, ...] = ()
    apostrophe: Literal["join", "split"] = "split"
    shorthand: dict[str, str] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    generic: frozenset[str] = frozenset()
    synonyms: dict[str, str] = field(default_factory=dict)
    phrases: tuple[tuple[re.Pattern[str], str], ...] = ()
    place: str = "country"
    place_prepositions: frozenset[str] = frozenset()
    shipping: frozenset[str] = frozenset()
    places: re.Pattern[str] | None = None
    kana_words: frozenset[str] = frozenset()
    respell: tuple[tuple[str, str], ...] = ()
    split_compounds: bool = False
    synonyms_as_faq_words: bool = False
    compound_joints: tuple[str, ...] = ()
    tuning: Tuning = Tuning()
    intents: Intents = Intents()
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def _snowball(self) -> Any:
        return snowballstemmer.stemmer(self.stemmer.split(":", 1)[1])

    # ------------------------------------------------------------------ normalising

    def normalise(self, text: str) -> str:
        """Fold case, width and accents, drop punctuation, expand shorthand, phrases and places.

        Returns the words joined by single spaces (for Chinese and Japanese: the tokens).
        """
        if self.script == "cjk":
            return " ".join(self._cjk_tokens(text))
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        text = text.translate(_FOLD)
        if self.apostrophe == "join":
            text = _CONTRACTION.sub(" not", text)
            text = _APOSTROPHE.sub("", text)
        text = _REPEAT.sub(r"\1\1", text)
        words = _NON_WORD.sub(" ", _NUMBER_EDGE.sub(" ", text)).split()
        folded = " ".join(self.shorthand.get(word, word) for word in words)
        for pattern, replacement in self.phrases:
            folded = pattern.sub(replacement, folded)
        folded = _LONG_NUMBER.sub(NUMBER, folded)
        if self.places is not None:
            folded = self.places.sub(self.place, folded)
        return folded

    def _cjk_tokens(self, text: str) -> list[str]:
        """Han runs as bigrams, katakana runs whole, only listed kana words, Latin words."""
        text = unicodedata.normalize("NFKC", text).casefold()
        for pattern, replacement in self.phrases:
            text = pattern.sub(replacement, text)
        text = _LONG_NUMBER.sub(NUMBER, text)
        tokens: list[str] = []
        for run in _CJK_RUN.finditer(text):
            kind, chunk = run.lastgroup, run.group()
            if kind == "han":
                if len(chunk) == 1:
                    tokens.append(chunk)
                else:
                    tokens.extend(chunk[i : i + 2] for i in range(len(chunk) - 1))
            elif kind == "kata":
                if len(chunk) > 1:
                    tokens.append(chunk)
            elif kind == "hira":
                tokens.extend(word for word in self.kana_words if word in chunk)
            else:
                tokens.append(self.shorthand.get(chunk, chunk))
        return tokens

    def respelled(self, word: str) -> str:
        """Return a normalised word as written with the letters it stands for ("groesse" ->
        "grosse", German "oe" for "ö"), or the word itself when the language lists none."""
        for old, new in self.respell:
            word = word.replace(old, new)
        return word

    def stem(self, word: str) -> str:
        """Return the stem of one normalised word."""
        if self.stemmer == "suffixes":
            for suffix in self.suffixes:
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    word = word[: -len(suffix)]
                    break
            if len(word) > 4 and word[-1] == word[-2]:
                word = word[:-1]
            return word
        if self.stemmer.startswith("snowball:") and word.isalpha():
            stemmed = str(self._snowball.stemWord(word))
            # Endings Snowball keeps once accents are folded (Polish "usunac", "odrzucil").
            for suffix in self.suffixes:
                if stemmed.endswith(suffix) and len(stemmed) - len(suffix) >= 4:
                    return stemmed[: -len(suffix)]
            return stemmed
        return word

    def concept(self, word: str) -> str:
        """Map one normalised word to its stem, then to a shared synonym if it has one."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            stemmed = self.stem(word)
            found = self.synonyms.get(stemmed, self.synonyms.get(word, stemmed))
            self._cache[word] = found
        return found

    def content_words(self, normalised: str) -> list[str]:
        """Return the words of a normalised text that carry meaning, in order."""
        shortest = 1 if self.script == "cjk" else 2
        return [
            word
            for word in normalised.split()
            if word not in self.stopwords and len(word) >= shortest
        ]

    # ------------------------------------------------------------------ intents

    def intent(self, text: str) -> Intent | None:
        """Return the intent of a message, or None if it may be a FAQ question.

        A hand-off request wins over everything else, so "thanks, but I want a person" hands off.
        """
        words_text = self.normalise(text) if self.script == "latin" else _plain(text)
        if not words_text:
            return None
        found = self.intents
        if (found.bare is not None and found.bare.search(words_text)) or (
            found.frustration is not None and found.frustration.search(words_text)
        ):
            return Intent.HANDOFF
        if any(pattern.search(words_text) for pattern in found.request) and not (
            found.about_staff is not None and found.about_staff.search(words_text)
        ):
            return Intent.HANDOFF
        words = set(words_text.split())
        if self.script == "cjk":
            # No spaces: a greeting or thanks is the whole message, one of the listed phrases.
            whole = words_text.replace(" ", "")
            if whole in found.greeting_words:
                return Intent.GREETING
            if whole in found.thanks_words:
                return Intent.THANKS
            return None
        if words <= found.greeting_words:
            return Intent.GREETING
        if words <= found.thanks_words and words & (found.thanks_core | found.ack_core):
            return Intent.THANKS
        return None


def _plain(text: str) -> str:
    """Chinese or Japanese text for the intent patterns: width and case folded, no punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _compile(value: str | None, parts: dict[str, str]) -> re.Pattern[str] | None:
    if not value:
        return None
    for name, part in parts.items():
        value = value.replace("{" + name + "}", part)
    return re.compile(value)


def parse_language(data: dict[str, Any]) -> Language:
    """Build a `Language` from the contents of its TOML file."""
    raw_intents = data.get("intents", {})
    parts = {
        name: raw_intents[name]
        for name in ("strong", "weak", "talk", "want")
        if name in raw_intents
    }
    intents = Intents(
        request=tuple(
            pattern
            for pattern in (_compile(text, parts) for text in raw_intents.get("request", ()))
            if pattern is not None
        ),
        bare=_compile(raw_intents.get("bare"), parts),
        frustration=_compile(raw_intents.get("frustration"), parts),
        about_staff=_compile(raw_intents.get("about_staff"), parts),
        greeting_words=frozenset(raw_intents.get("greeting_words", ())),
        thanks_words=frozenset(raw_intents.get("thanks_words", ())),
        thanks_core=frozenset(raw_intents.get("thanks_core", ())),
        ack_core=frozenset(raw_intents.get("ack_core", ())),
    )
    names = str(data.get("places", "")).split()
    places = (
        re.compile(
            r"\b(?:"
            + "|".join(
                re.escape(name.replace("_", " ")) for name in sorted(names, key=len, reverse=True)
            )
            + r")\b"
        )
        if names
        else None
    )
    language = Language(
        code=data["code"],
        script=data.get("script", "latin"),
        stemmer=data.get("stemmer", "none"),
        suffixes=tuple(data.get("suffixes", ())),
        apostrophe=data.get("apostrophe", "split"),
        shorthand=dict(data.get("shorthand", {})),
        stopwords=frozenset(data.get("stopwords", ())),
        generic=frozenset(data.get("generic", ())),
        synonyms=dict(data.get("synonyms", {})),
        phrases=tuple((re.compile(pattern), repl) for pattern, repl in data.get("phrases", ())),
        place=data.get("place", "country"),
        place_prepositions=frozenset(data.get("place_prepositions", ())),
        shipping=frozenset(data.get("shipping", ())),
        places=places,
        kana_words=frozenset(data.get("kana_words", ())),
        respell=tuple((old, new) for old, new in data.get("respell", ())),
        split_compounds=bool(data.get("split_compounds", False)),
        synonyms_as_faq_words=bool(data.get("synonyms_as_faq_words", False)),
        compound_joints=tuple(data.get("compound_joints", ())),
        tuning=Tuning(**data.get("tuning", {})),
        intents=intents,
    )
    if data.get("stem_synonym_keys", False):
        # Synonyms written as plain words ("paket") also catch every form with the same stem.
        for key, value in list(language.synonyms.items()):
            language.synonyms.setdefault(language.stem(key), value)
    generic = data.get("generic_words", ())
    if generic:
        # Generic concepts written as plain words: their concepts count as generic.
        return replace(
            language, generic=language.generic | {language.concept(word) for word in generic}
        )
    return language


@functools.cache
def load_language(code: str) -> Language:
    """Return the language with this code ("de", "zh-CN"); "de-AT" reads `de.toml`.

    Raises:
        KeyError: no data file for that language.
    """
    for name in (code, code.split("-")[0].split("_")[0]):
        path = LANG_DIR / f"{name}.toml"
        if path.is_file():
            return parse_language(tomllib.loads(path.read_text(encoding="utf-8")))
    raise KeyError(f"no language data for {code!r} (looked for {LANG_DIR}/{code}.toml)")


def available_languages() -> list[str]:
    """The codes of every language with a data file, English first."""
    codes = sorted(path.stem for path in LANG_DIR.glob("*.toml"))
    return sorted(codes, key=lambda code: code != "en")
