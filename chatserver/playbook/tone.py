"""The tone coach: phrasing that shifts effort or blame onto the customer, and a better wording.

Rules are data, one file per language in ``tone/<lang>.toml``: a case-insensitive regular
expression, a suggestion and the reason. Patterns match whole words unless the file says
``boundaries = false`` (Chinese, Japanese). The console applies the same rules as the agent types
(``GET /api/playbook/tone``); it only underlines and suggests, and never blocks sending.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

FALLBACK = "en"


class ToneRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1, max_length=300)
    suggestion: str = Field(min_length=1, max_length=200)
    why: str = Field(default="", max_length=300)


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


def languages() -> list[str]:
    """The languages with shipped rules."""
    folder = resources.files("chatserver.playbook") / "tone"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def rules_for(locale: str) -> ToneRules:
    """The rules for a locale (``de-AT`` uses ``de``; ``zh-*`` uses ``zh-CN``), else English."""
    known = languages()
    base = locale.split("-")[0].lower()
    lang = next(
        (code for code in known if code.lower() == locale.lower() or code.split("-")[0] == base),
        FALLBACK,
    )
    return _load(lang)


def book() -> ToneBook:
    """The rules of every shipped language."""
    return ToneBook(languages=[_load(lang) for lang in languages()])


@cache
def _load(lang: str) -> ToneRules:
    text = (resources.files("chatserver.playbook") / "tone" / f"{lang}.toml").read_text("utf-8")
    return ToneRules.model_validate({"lang": lang, **tomllib.loads(text)})


@cache
def _compiled(lang: str) -> list[tuple[re.Pattern[str], ToneRule]]:
    rules = _load(lang)
    wrap = (r"(?<!\w)(?:{})(?!\w)" if rules.boundaries else "(?:{})").format
    return [(re.compile(wrap(rule.pattern), re.IGNORECASE), rule) for rule in rules.rules]


def check(text: str, locale: str) -> list[Flag]:
    """Every phrase in ``text`` a rule of the locale's language flags, in reading order."""
    lang = rules_for(locale).lang
    flags = [
        Flag(m.start(), m.end(), m.group(0), rule.suggestion, rule.why)
        for pattern, rule in _compiled(lang)
        for m in pattern.finditer(text)
    ]
    return sorted(flags, key=lambda f: f.start)
