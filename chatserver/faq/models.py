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
    """A whole FAQ: its entries in file order, and the file they came from."""

    model_config = ConfigDict(frozen=True)

    entries: tuple[FaqEntry, ...]
    source: str = "<memory>"

    def get(self, entry_id: str) -> FaqEntry | None:
        """Return the entry with this id, or None."""
        return next((entry for entry in self.entries if entry.id == entry_id), None)


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
