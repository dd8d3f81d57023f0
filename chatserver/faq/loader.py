"""Load the shop's FAQ (TOML) into frozen models, and say exactly what is wrong with it.

`faq.toml` holds the entries in English (id, category, title, answer, questions); beside it,
`faq.<lang>.toml` (e.g. `faq.de.toml`, `faq.zh-CN.toml`) holds one table per entry id with that
entry's title, answer and questions in the language. An entry missing from a language's file
falls back as the shop chooses in shop.toml (`missing_language`).
"""

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


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, list[FaqProblem]]:
    """A TOML file's contents, or None and the problem that kept it from being read."""
    file = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except OSError as exc:
        return None, [FaqProblem(file=file, entry="-", message=f"cannot read file: {exc.strerror}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [FaqProblem(file=file, entry="-", message=f"not valid TOML: {exc}")]


def _parse(path: Path) -> tuple[list[FaqEntry], list[FaqProblem]]:
    """Parse and validate every entry; collect all problems instead of stopping at the first."""
    file = str(path)
    data, unread = _read_toml(path)
    if data is None:
        return [], unread
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


_TRANSLATED_FIELDS = ("title", "answer", "questions")


def translation_files(path: Path) -> dict[str, Path]:
    """The `<stem>.<lang>.toml` files beside a FAQ file, by language code."""
    prefix = f"{path.stem}."
    found = {}
    for file in sorted(path.parent.glob(f"{path.stem}.*.toml")):
        code = file.name[len(prefix) : -len(".toml")]
        if code and "." not in code:
            found[code] = file
    return found


def _parse_translation(
    path: Path, lang: str, english: list[FaqEntry]
) -> tuple[list[FaqEntry], list[FaqProblem]]:
    """Parse one language's file against the English entries (ids and categories come from them)."""
    from chatserver.faq.language import load_language

    file = str(path)
    data, unread = _read_toml(path)
    if data is None:
        return [], unread
    problems = []
    try:
        load_language(lang)
    except KeyError:
        problems.append(FaqProblem(file=file, entry="-", message=f"no language data for {lang!r}"))
    base = {entry.id: entry for entry in english}
    translated: dict[str, FaqEntry] = {}
    for entry_id, raw in data.items():
        label = f"entry {entry_id!r}"
        if entry_id not in base:
            problems.append(
                FaqProblem(file=file, entry=label, message="no entry with this id in faq.toml")
            )
            continue
        if not isinstance(raw, dict):
            problems.append(
                FaqProblem(file=file, entry=label, message="must be a table: [entry-id]")
            )
            continue
        unknown = sorted(set(raw) - set(_TRANSLATED_FIELDS))
        if unknown:
            problems.extend(
                FaqProblem(
                    file=file,
                    entry=label,
                    message=f"unknown field {key!r} (allowed: title, answer, questions)",
                )
                for key in unknown
            )
            continue
        try:
            translated[entry_id] = FaqEntry.model_validate(
                {**raw, "id": entry_id, "category": base[entry_id].category}
            )
        except ValidationError as exc:
            problems.extend(
                FaqProblem(file=file, entry=label, message=_describe(error))
                for error in exc.errors()
            )
    ordered = [translated[entry.id] for entry in english if entry.id in translated]
    return ordered, problems


def parse_all(path: Path) -> tuple[Faq | None, list[FaqProblem]]:
    """Parse `faq.toml` and every `faq.<lang>.toml` beside it; collect all problems."""
    entries, problems = _parse(path)
    if not entries:
        return None, problems
    translations: dict[str, tuple[FaqEntry, ...]] = {}
    for lang, file in translation_files(path).items():
        if lang == "en":
            problems.append(
                FaqProblem(file=str(file), entry="-", message=f"English belongs in {path.name}")
            )
            continue
        translated, found = _parse_translation(file, lang, entries)
        problems.extend(found)
        translations[lang] = tuple(translated)
    return Faq(entries=tuple(entries), translations=translations, source=str(path)), problems


def load_faq(path: Path) -> Faq:
    """Load and validate a FAQ file and its languages' files beside it.

    Raises:
        FaqError: a file is unreadable or has invalid entries; each problem says where.
    """
    faq, problems = parse_all(path)
    if problems or faq is None:
        raise FaqError(problems)
    return faq


__all__ = [
    "Faq",
    "FaqEntry",
    "FaqError",
    "FaqProblem",
    "load_faq",
    "parse_all",
    "translation_files",
]
