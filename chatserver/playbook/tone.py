"""The tone coach: phrasing that shifts effort or blame onto the customer, and a better wording.

Rules are data, one file per language in ``tone/<lang>.toml``: a case-insensitive regular
expression, a suggestion and the reason. Patterns match whole words unless the file says
``boundaries = false`` (Chinese, Japanese). The console applies the same rules as the agent types
(``GET /api/playbook/tone``); it only underlines and suggests, and never blocks sending. The
server counts flagged agent messages with :meth:`Tone.check` on the same rules, for reports.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FALLBACK = "en"
DOCUMENT = re.compile(r"^tone\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\.toml$")
"""A shop's stored rules of one language: ``tone.<lang>.toml``."""
UNSPACED = ("ja", "zh", "th")
"""Languages written without spaces between words: their rules match anywhere."""


class ToneRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1, max_length=300)
    suggestion: str = Field(min_length=1, max_length=200)
    why: str = Field(default="", max_length=300)

    @field_validator("pattern")
    @classmethod
    def _usable(cls, pattern: str) -> str:
        return check_pattern(pattern)


class ToneRules(BaseModel):
    """One language's rules, as the console receives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str
    boundaries: bool = True
    rules: list[ToneRule] = Field(alias="rule", default_factory=list)


class ToneBook(BaseModel):
    """Every shipped language's rules: agents write in the shopper's language, whichever it is."""

    model_config = ConfigDict(frozen=True)

    languages: list[ToneRules]


@dataclass(frozen=True)
class Flag:
    """One phrase the coach underlines: where it is, and what to say instead."""

    start: int
    end: int
    text: str
    suggestion: str
    why: str


class ToneProblems(ValueError):
    """A language's rules would not load; ``fields`` maps ``rule.<n>.<field>`` to the problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{where}: {message}" for where, message in fields.items()))


_NOT_IN_BROWSERS = re.compile(r"\(\?P|\(\?#|\\[AZz]|\(\?[aiLmsux-]+[:)]")


def check_pattern(pattern: str) -> str:
    """A pattern both Python and the browsers read alike, that never matches empty text.

    Raises:
        ValueError: with what is wrong, for the admin page to show next to the field.
    """
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a valid pattern: {exc}") from exc
    if _NOT_IN_BROWSERS.search(pattern):
        raise ValueError("uses syntax browsers do not read ((?P<...>, (?#...), inline flags, \\A)")
    if compiled.fullmatch(""):
        raise ValueError("matches empty text: it would flag every message")
    return pattern


def parse_rules(lang: str, text: str) -> ToneRules:
    """One language's rules from TOML text. Raises ToneProblems naming each bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ToneProblems({"document": f"not valid TOML: {exc}"}) from exc
    try:
        return ToneRules.model_validate({"lang": lang, **data})
    except ValidationError as exc:
        raise ToneProblems(
            {
                ".".join(str(p) for p in e["loc"]): e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            }
        ) from exc


def default_boundaries(lang: str) -> bool:
    """Whether a new language's rules match whole words only (not for Chinese, Japanese, Thai)."""
    return lang.split("-")[0].lower() not in UNSPACED


def languages() -> list[str]:
    """The languages with shipped rules."""
    folder = resources.files("chatserver.playbook") / "tone"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def shipped_text(lang: str) -> str:
    """The shipped rules file of a language, as text."""
    return (resources.files("chatserver.playbook") / "tone" / f"{lang}.toml").read_text("utf-8")


class Tone:
    """The rules in use: the shipped files, each replaced by the shop's stored document if any.

    Build one with :meth:`from_documents` whenever the shop's documents change; it compiles every
    pattern once.
    """

    def __init__(self, rules: Mapping[str, ToneRules]) -> None:
        self.rules = dict(sorted(rules.items()))
        self._compiled = {lang: _compile(r) for lang, r in self.rules.items()}
        self._any = {lang: _union(r) for lang, r in self.rules.items()}
        self._langs: dict[str, str] = {}

    @classmethod
    def from_documents(cls, documents: Mapping[str, str]) -> Tone:
        """The shipped rules overridden by the stored ``tone.<lang>.toml`` documents.

        Raises:
            ToneProblems: a stored document is invalid (its fields prefixed ``<lang>.``).
        """
        rules = {lang: _shipped(lang) for lang in languages()}
        for name, text in documents.items():
            found = DOCUMENT.match(name)
            if found is None:
                continue
            lang = found.group(1)
            try:
                rules[lang] = parse_rules(lang, text)
            except ToneProblems as exc:
                raise ToneProblems({f"{lang}.{k}": v for k, v in exc.fields.items()}) from exc
        return cls(rules)

    def rules_for(self, locale: str) -> ToneRules:
        """The rules for a locale (``de-AT`` uses ``de``; ``zh-*`` uses ``zh-CN``), else English."""
        return self.rules[self._lang(locale)]

    def book(self) -> ToneBook:
        """Every language's rules, as the console receives them."""
        return ToneBook(languages=list(self.rules.values()))

    def check(self, text: str, locale: str) -> list[Flag]:
        """Every phrase in ``text`` a rule of the locale's language flags, in reading order."""
        flags = [
            Flag(m.start(), m.end(), m.group(0), rule.suggestion, rule.why)
            for pattern, rule in self._compiled.get(self._lang(locale), [])
            for m in pattern.finditer(text)
        ]
        return sorted(flags, key=lambda f: f.start)

    def flagged(self, text: str, locale: str) -> bool:
        """Whether any rule of the locale's language flags ``text`` (the server's count)."""
        lang = self._langs.get(locale)
        if lang is None:
            lang = self._lang(locale)
            if len(self._langs) < 1000:
                self._langs[locale] = lang
        union = self._any.get(lang)
        if union is not None:
            return union.search(text) is not None
        return any(p.search(text) for p, _ in self._compiled.get(lang, []))

    def _lang(self, locale: str) -> str:
        base = locale.split("-")[0].lower()
        return next(
            (
                code
                for code in self.rules
                if code.lower() == locale.lower() or code.split("-")[0] == base
            ),
            FALLBACK,
        )


_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def _union(rules: ToneRules) -> re.Pattern[str] | None:
    """A language's rules as one pattern (one scan of a message, not one per rule); None when
    a rule refers back to its own groups, which joining would renumber, or there are none."""
    if not rules.rules or any(_BACKREFERENCE.search(r.pattern) for r in rules.rules):
        return None
    return _pattern(rules, "|".join(f"(?:{r.pattern})" for r in rules.rules))


def _compile(rules: ToneRules) -> list[tuple[re.Pattern[str], ToneRule]]:
    return [(_pattern(rules, rule.pattern), rule) for rule in rules.rules]


def _pattern(rules: ToneRules, pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled as the language's rules match: whole words unless it says not."""
    wrap = r"(?<!\w)(?:{})(?!\w)" if rules.boundaries else "(?:{})"
    return re.compile(wrap.format(pattern), re.IGNORECASE)


@cache
def _shipped(lang: str) -> ToneRules:
    return ToneRules.model_validate({"lang": lang, **tomllib.loads(shipped_text(lang))})


@cache
def shipped() -> Tone:
    """The shipped rules alone (a shop that has edited none)."""
    return Tone.from_documents({})


def rules_for(locale: str) -> ToneRules:
    """The shipped rules for a locale."""
    return shipped().rules_for(locale)


def book() -> ToneBook:
    """The shipped rules of every language."""
    return shipped().book()


def check(text: str, locale: str) -> list[Flag]:
    """Every phrase in ``text`` a shipped rule of the locale's language flags, in reading order."""
    return shipped().check(text, locale)
