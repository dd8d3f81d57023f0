"""The two `chatserver faq` commands: check a FAQ file, and evaluate the bot on labelled questions."""

from __future__ import annotations

import sys
from pathlib import Path

from chatserver.faq.bot import FaqBot
from chatserver.faq.check import check_faq
from chatserver.faq.evaluate import by_language, evaluate, read_cases, result_json
from chatserver.faq.loader import load_faq
from chatserver.faq.models import FaqError


def check_command(faq_path: Path) -> int:
    """Print every problem in a FAQ file; return 0 when it is clean, 1 when not."""
    problems = check_faq(faq_path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {faq_path}", file=sys.stderr)
        return 1
    print(f"{faq_path}: ok, {len(load_faq(faq_path).entries)} entries")
    return 0


def eval_command(questions: Path, faq_path: Path, as_json: bool) -> int:
    """Run the bot on a JSONL file of labelled questions and print the contract's last line.

    With `as_json`, one JSON object per question comes first. Lines that carry "lang" get one
    summary line per language (`lang=de correct=...`) before the overall line, which is last. Returns 0, or 1 when the FAQ or the
    questions file cannot be read.
    """
    try:
        bot = FaqBot(load_faq(faq_path))
        cases = read_cases(questions)
    except (FaqError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    results, summary = evaluate(bot, cases)
    if as_json:
        for result in results:
            print(result_json(result))
    for lang, part in by_language(results).items():
        print(part.line(lang))
    print(summary.line())
    return 0
