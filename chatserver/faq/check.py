"""`chatserver faq check`: what is wrong in a FAQ, including questions the matcher cannot tell apart."""

from __future__ import annotations

from pathlib import Path

from chatserver.faq.loader import _parse
from chatserver.faq.matcher import Matcher
from chatserver.faq.models import Faq, FaqProblem


def check_faq(path: Path) -> list[FaqProblem]:
    """Return every problem in a FAQ file, including questions the matcher cannot tell apart.

    A question is ambiguous when another entry scores at least as high for it as its own entry.
    """
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
