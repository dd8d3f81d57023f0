"""The FAQ's data types, shared by the loader, the matcher and the checks (no imports among them)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class FaqEntry(BaseModel):
    """One answer of the FAQ and the ways shoppers ask for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    answer: str = Field(min_length=1, max_length=4000)
    questions: tuple[str, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "must be lowercase letters, digits and single dashes, e.g. 'order-status'"
            )
        return value

    @field_validator("title", "answer", "category")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(question.strip() for question in value)
        if any(not question for question in cleaned):
            raise ValueError("must not contain an empty question")
        return cleaned


class Faq(BaseModel):
    """A whole FAQ: its English entries in file order, their texts in other languages, and the
    file they came from.

    `translations` maps a language code ("de", "zh-CN") to entries with the same ids and
    categories as the English ones, in the English order; an entry may be missing in a language.
    """

    model_config = ConfigDict(frozen=True)

    entries: tuple[FaqEntry, ...]
    translations: dict[str, tuple[FaqEntry, ...]] = Field(default_factory=dict)
    source: str = "<memory>"

    @property
    def languages(self) -> list[str]:
        """English, then every language the FAQ has texts in."""
        return ["en", *self.translations]

    def entries_in(self, lang: str) -> tuple[FaqEntry, ...]:
        """The entries written in a language (English: all of them; unknown: none)."""
        return self.entries if lang == "en" else self.translations.get(lang, ())

    def get(self, entry_id: str, lang: str = "en") -> FaqEntry | None:
        """Return the entry with this id in a language, or None."""
        return next((entry for entry in self.entries_in(lang) if entry.id == entry_id), None)

    def missing(self, lang: str) -> list[str]:
        """The ids of the English entries that have no text in a language."""
        present = {entry.id for entry in self.entries_in(lang)}
        return [entry.id for entry in self.entries if entry.id not in present]

    def matchable(self, lang: str) -> tuple[FaqEntry, ...]:
        """What a matcher for `lang` indexes: each entry in that language, else in English."""
        if lang == "en":
            return self.entries
        own = {entry.id: entry for entry in self.entries_in(lang)}
        return tuple(own.get(entry.id, entry) for entry in self.entries)


class FaqProblem(BaseModel):
    """One thing wrong in a FAQ file, with where it is."""

    model_config = ConfigDict(frozen=True)

    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.message}"


class FaqError(ValueError):
    """Raised when a FAQ file cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[FaqProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
