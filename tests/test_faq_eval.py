"""`faq eval`: the scoring rules of the contract, its last line, and the targets on our own set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chatserver.faq import BotReply
from chatserver.faq.commands import eval_command
from chatserver.faq.evaluate import judge

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "faq_data" / "faq.toml"
OWN_SET = ROOT / "tests" / "data" / "faq_questions.jsonl"
LAST_LINE = re.compile(
    r"^correct=(\d\.\d{3}) wrong=(\d\.\d{3}) abstained=(\d\.\d{3}) in_scope_correct=(\d\.\d{3}) n=(\d+)$"
)


def answer(entry_id: str) -> BotReply:
    return BotReply(kind="answer", entry_id=entry_id, title="t", answer="a", confidence=0.9)


@pytest.mark.parametrize(
    ("expect", "reply", "outcome"),
    [
        (("refund-status",), answer("refund-status"), "correct"),
        (("refund-status", "return-policy"), answer("return-policy"), "correct"),
        (("refund-status",), answer("exchange"), "wrong"),
        (None, answer("exchange"), "wrong"),
        (None, BotReply(kind="abstain"), "correct"),
        (None, BotReply(kind="greeting"), "correct"),
        (None, BotReply(kind="handoff"), "correct"),
        (("human",), BotReply(kind="handoff"), "correct"),
        (("contact-hours", "human"), BotReply(kind="handoff"), "correct"),
        (("human",), answer("contact-hours"), "wrong"),
        (("refund-status",), BotReply(kind="handoff"), "abstained"),
        (("refund-status",), BotReply(kind="thanks"), "abstained"),
    ],
)
def test_outcome_follows_the_contract(expect, reply: BotReply, outcome: str) -> None:
    assert judge(expect, reply) == outcome


def run_eval(path: Path, capsys: pytest.CaptureFixture[str], as_json: bool = False) -> list[str]:
    assert eval_command(path, FAQ, as_json) == 0
    return capsys.readouterr().out.splitlines()


def test_last_line_has_exact_format_and_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"text": "how do I cancel my order", "expect": "order-cancel"},
        {"text": "agent please", "expect": "human", "source": "ignored"},
        {"text": "do you sell protein powder", "expect": None},
        {"text": "how do I cancel my order", "expect": "refund-status"},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    last = run_eval(path, capsys)[-1]
    assert last == "correct=0.750 wrong=0.250 abstained=0.000 in_scope_correct=0.667 n=4"


def test_json_mode_prints_one_result_per_question_before_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "hi", "expect": null}\n{"text": "human", "expect": "human"}\n')
    out = run_eval(path, capsys, as_json=True)
    results = [json.loads(line) for line in out[:-1]]
    assert [(r["kind"], r["outcome"]) for r in results] == [
        ("greeting", "correct"),
        ("handoff", "correct"),
    ]
    assert results[1]["expect"] == "human"
    assert LAST_LINE.match(out[-1])


def test_bad_questions_file_exits_1_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "hi", "expect": null}\nnot json\n')
    assert eval_command(path, FAQ, False) == 1
    assert ":2:" in capsys.readouterr().err


def own_set_summary(capsys: pytest.CaptureFixture[str]) -> tuple[float, float]:
    found = LAST_LINE.match(run_eval(OWN_SET, capsys)[-1])
    assert found and int(found[5]) >= 300
    return float(found[1]), float(found[2])


def test_own_set_meets_the_issue_targets(capsys: pytest.CaptureFixture[str]) -> None:
    correct, wrong = own_set_summary(capsys)
    assert correct >= 0.90 and wrong <= 0.02
