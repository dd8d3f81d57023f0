"""Load the shop's FAQ file (TOML) into frozen models, and say exactly what is wrong with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


def _entry_label(index: int, raw: Any) -> str:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    return (
        f"entry {index + 1} (id {entry_id!r})"
        if isinstance(entry_id, str)
        else f"entry {index + 1}"
    )


def _parse(path: Path) -> tuple[list[FaqEntry], list[FaqProblem]]:
    """Parse and validate every entry; collect all problems instead of stopping at the first."""
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [], [FaqProblem(file=file, entry="-", message=f"cannot read file: {exc.strerror}")]
    except tomllib.TOMLDecodeError as exc:
        return [], [FaqProblem(file=file, entry="-", message=f"not valid TOML: {exc}")]
    problems = [
        FaqProblem(
            file=file, entry="-", message=f"unknown top-level key {key!r} (expected [[entry]])"
        )
        for key in data
        if key != "entry"
    ]
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list) or not raw_entries:
        problems.append(FaqProblem(file=file, entry="-", message="no [[entry]] tables found"))
        return [], problems
    entries: list[FaqEntry] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        label = _entry_label(index, raw)
        try:
            entry = FaqEntry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(
                FaqProblem(file=file, entry=label, message=_describe(error))
                for error in exc.errors()
            )
            continue
        if entry.id in first_seen:
            problems.append(
                FaqProblem(
                    file=file,
                    entry=label,
                    message=f"duplicate id {entry.id!r} (first used by entry {first_seen[entry.id] + 1})",
                )
            )
            continue
        first_seen[entry.id] = index
        entries.append(entry)
    return entries, problems


def _describe(error: Any) -> str:
    """Turn one pydantic error into a sentence a shop owner can act on."""
    field = ".".join(str(part) for part in error["loc"]) or "entry"
    kind = error["type"]
    if kind == "missing":
        return f"missing required field {field!r}"
    if kind == "extra_forbidden":
        return f"unknown field {field!r} (allowed: id, category, title, answer, questions)"
    if kind in {"string_too_short", "too_short"}:
        return f"field {field!r} must not be empty"
    return f"field {field!r}: {error['msg']}"


def load_faq(path: Path) -> Faq:
    """Load and validate a FAQ file.

    Raises:
        FaqError: the file is unreadable or has invalid entries; each problem says where.
    """
    entries, problems = _parse(path)
    if problems:
        raise FaqError(problems)
    return Faq(entries=tuple(entries), source=str(path))


def check_faq(path: Path) -> list[FaqProblem]:
    """Return every problem in a FAQ file, including questions the matcher cannot tell apart.

    A question is ambiguous when another entry scores at least as high for it as its own entry.
    """
    from chatserver.faq.matcher import Matcher  # the matcher builds on these models

    entries, problems = _parse(path)
    if not entries:
        return problems
    matcher = Matcher(Faq(entries=tuple(entries), source=str(path)))
    for entry in entries:
        for question in entry.questions:
            scores = matcher.scores(question)
            own = scores.get(entry.id, 0.0)
            rivals = sorted(
                other
                for other, score in scores.items()
                if other != entry.id and score >= own - 1e-9
            )
            if rivals:
                problems.append(
                    FaqProblem(
                        file=str(path),
                        entry=f"entry {entry.id!r}",
                        message=f"question {question!r} matches {', '.join(map(repr, rivals))} "
                        "as well as its own entry",
                    )
                )
    return problems
