"""Load the shop's FAQ file (TOML) into frozen models, and say exactly what is wrong with it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatserver.faq.models import Faq, FaqEntry, FaqError, FaqProblem


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


__all__ = ["Faq", "FaqEntry", "FaqError", "FaqProblem", "load_faq"]
