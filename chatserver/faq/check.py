"""`chatserver faq check`: what is wrong in a FAQ, including questions the matcher cannot tell apart
and entries missing in a language the shop declares."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chatserver.faq.loader import parse_all, translation_files
from chatserver.faq.matcher import Matcher
from chatserver.faq.models import FaqProblem


def declared_languages(faq_path: Path) -> list[str] | None:
    """The languages `shop.toml` beside the FAQ declares, or None without a readable one."""
    from chatserver.domain.shop import load_shop  # the shop's settings, not the FAQ's own

    shop_path = faq_path.parent / "shop.toml"
    if not shop_path.is_file():
        return None
    try:
        return list(load_shop(shop_path).languages)
    except ValueError:
        return None


def check_faq(path: Path, languages: Sequence[str] | None = None) -> list[FaqProblem]:
    """Return every problem in a FAQ file and its languages' files.

    A question is ambiguous when another entry scores at least as high for it as its own entry.
    `languages` are those the shop declares (default: from `shop.toml` beside the FAQ, else the
    languages that have a file); an entry without text in one of them is a problem.
    """
    faq, problems = parse_all(path)
    if faq is None:
        return problems
    wanted = list(languages) if languages is not None else declared_languages(path)
    files = translation_files(path)
    for lang in wanted or []:
        if lang == "en":
            continue
        missing = faq.missing(lang)
        file = str(files.get(lang, path.parent / f"{path.stem}.{lang}.toml"))
        if lang not in faq.translations:
            problems.append(
                FaqProblem(
                    file=file,
                    entry="-",
                    message=f"the shop declares {lang!r} but there is no such file "
                    f"({len(missing)} entries missing)",
                )
            )
            continue
        problems.extend(
            FaqProblem(
                file=file,
                entry=f"entry {entry_id!r}",
                message=f"missing in {lang!r}, which the shop declares",
            )
            for entry_id in missing
        )
    embedder = None
    for lang in faq.languages:
        matcher = Matcher(faq, lang=lang, embedder=embedder)
        embedder = embedder or matcher.embedder
        file = str(path if lang == "en" else files[lang])
        for entry in faq.entries_in(lang):
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
                            file=file,
                            entry=f"entry {entry.id!r}",
                            message=f"question {question!r} matches "
                            f"{', '.join(map(repr, rivals))} as well as its own entry",
                        )
                    )
    return problems
