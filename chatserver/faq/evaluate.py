"""Score the bot on labelled shopper questions (the `faq eval` contract)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from chatserver.faq.bot import BotReply, FaqBot

Outcome = Literal["correct", "wrong", "abstained"]
HUMAN = "human"


class EvalCase(BaseModel):
    """One labelled line: the text and what a right reply is (ids, "human", or None)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str
    expect: tuple[str, ...] | None
    #: The language the line is written in, for the per-language summary only: the bot never
    #: sees it (it detects the language from the text, as in a real chat).
    lang: str | None = None

    @field_validator("expect", mode="before")
    @classmethod
    def _as_tuple(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class EvalResult(BaseModel):
    """How the bot did on one case."""

    model_config = ConfigDict(frozen=True)

    text: str
    expect: tuple[str, ...] | None
    lang: str | None = None
    detected: str = "en"
    kind: str
    entry_id: str | None
    confidence: float
    outcome: Outcome


class EvalSummary(BaseModel):
    """Shares over all cases, as printed on the last line of `faq eval`."""

    model_config = ConfigDict(frozen=True)

    correct: float
    wrong: float
    abstained: float
    in_scope_correct: float
    n: int

    def line(self, label: str | None = None) -> str:
        """Return the contract line: `correct=0.912 wrong=0.010 ... n=150` (`lang=de ...`)."""
        return (
            (f"lang={label} " if label else "")
            + f"correct={self.correct:.3f} wrong={self.wrong:.3f} abstained={self.abstained:.3f} "
            f"in_scope_correct={self.in_scope_correct:.3f} n={self.n}"
        )


def read_cases(path: Path) -> list[EvalCase]:
    """Read a JSONL file of cases, skipping blank lines.

    Raises:
        ValueError: a line is not JSON or lacks "text"/"expect"; the message names the line.
    """
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(EvalCase.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(
                f"{path}:{number}: not a valid case: {exc.errors()[0]['msg']}"
            ) from exc
    return cases


def judge(expect: tuple[str, ...] | None, reply: BotReply) -> Outcome:
    """Classify one reply against its expectation."""
    if reply.kind == "answer":
        return "correct" if expect is not None and reply.entry_id in expect else "wrong"
    if expect is None:
        return "correct"
    if reply.kind == "handoff" and HUMAN in expect:
        return "correct"
    return "abstained"


def evaluate(bot: FaqBot, cases: Iterable[EvalCase]) -> tuple[list[EvalResult], EvalSummary]:
    """Run the bot on every case; return per-case results and the summary."""
    results = []
    for case in cases:
        reply = bot.reply(case.text)
        results.append(
            EvalResult(
                text=case.text,
                expect=case.expect,
                lang=case.lang,
                detected=reply.lang,
                kind=reply.kind,
                entry_id=reply.entry_id,
                confidence=reply.confidence,
                outcome=judge(case.expect, reply),
            )
        )
    return results, summarise(results)


def by_language(results: list[EvalResult]) -> dict[str, EvalSummary]:
    """One summary per language the lines name (in order of first appearance)."""
    groups: dict[str, list[EvalResult]] = {}
    for result in results:
        if result.lang:
            groups.setdefault(result.lang, []).append(result)
    return {lang: summarise(group) for lang, group in groups.items()}


def summarise(results: list[EvalResult]) -> EvalSummary:
    """Compute the shares of a list of results (0.0 for an empty list)."""
    total = len(results)
    in_scope = [result for result in results if result.expect is not None]

    def share(outcome: Outcome, among: list[EvalResult]) -> float:
        return sum(result.outcome == outcome for result in among) / len(among) if among else 0.0

    return EvalSummary(
        correct=share("correct", results),
        wrong=share("wrong", results),
        abstained=share("abstained", results),
        in_scope_correct=share("correct", in_scope),
        n=total,
    )


def result_json(result: EvalResult) -> str:
    """One result as a JSON line (expect as in the input: a string, a list, or null)."""
    data = result.model_dump()
    expect = result.expect
    data["expect"] = expect[0] if expect is not None and len(expect) == 1 else expect
    return json.dumps(data, ensure_ascii=False)
