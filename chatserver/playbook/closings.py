"""Closing messages by situation, one file per language in ``closings/<lang>.toml``.

Every language has the same situations (:data:`SITUATIONS`): a solved question, a pending
investigation, an upset customer, an out-of-hours follow-up, and one that asks for the rating.
The console offers them in the conversation's language (``GET /api/playbook/closings``).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Situation = Literal["solved", "pending", "angry", "after_hours", "rating"]
SITUATIONS: tuple[Situation, ...] = ("solved", "pending", "angry", "after_hours", "rating")


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    situation: Situation
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=2000)


class Closings(BaseModel):
    """One language's closings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str
    closings: list[Closing] = Field(alias="closing")


class ClosingsBook(BaseModel):
    model_config = ConfigDict(frozen=True)

    languages: list[Closings]


def _folder() -> Traversable:
    return resources.files("chatserver.playbook") / "closings"


def closing_languages() -> list[str]:
    """The languages with shipped closings."""
    names = (p.name for p in _folder().iterdir())
    return sorted(name.removesuffix(".toml") for name in names if name.endswith(".toml"))


@cache
def closings_for(lang: str) -> Closings:
    """One shipped language's closings."""
    text = (_folder() / f"{lang}.toml").read_text("utf-8")
    return Closings.model_validate({"lang": lang, **tomllib.loads(text)})


@cache
def closings_book() -> ClosingsBook:
    """Every shipped language's closings."""
    return ClosingsBook(languages=[closings_for(lang) for lang in closing_languages()])
