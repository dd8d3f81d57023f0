"""Loading and checking the FAQ file: the real one is clean, broken ones say what and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.faq import FaqError, check_faq, load_faq
from chatserver.faq.commands import check_command

FAQ = Path(__file__).resolve().parents[1] / "faq_data" / "faq.toml"
REQUIRED_IDS = [
    "order-status",
    "order-tracking",
    "order-cancel",
    "order-modify",
    "order-confirmation",
    "payment-methods",
    "payment-failed",
    "coupon-code",
    "invoice",
    "processing-time",
    "delivery-time",
    "shipping-cost",
    "shipping-countries",
    "shipping-delay",
    "lost-package",
    "customs-duties",
    "return-policy",
    "exchange",
    "refund-status",
    "damaged-item",
    "wrong-item",
    "size-guide",
    "restock",
    "warranty",
    "contact-hours",
    "account-password",
    "privacy-data",
]

GOOD = """
[[entry]]
id = "{id}"
category = "orders"
title = "{title}"
answer = "{answer}"
questions = [{questions}]
"""


def entry(
    id: str = "a", title: str = "T", answer: str = "An answer.", questions: str = '"q"'
) -> str:
    return GOOD.format(id=id, title=title, answer=answer, questions=questions)


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str) -> Path:
        path = tmp_path / "faq.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def test_shipped_faq_loads_with_every_required_id() -> None:
    faq = load_faq(FAQ)
    ids = [e.id for e in faq.entries]
    assert set(REQUIRED_IDS) <= set(ids)
    assert len(ids) == len(set(ids))
    assert all(len(e.questions) >= 5 and e.answer for e in faq.entries)


def test_shipped_faq_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(FAQ) == 0
    assert "ok" in capsys.readouterr().out


def test_duplicate_id_is_reported_with_both_entries(write) -> None:
    path = write(
        entry(id="x", questions='"where is my parcel"') + entry(id="x", questions='"refund"')
    )
    problems = check_faq(path)
    assert any("duplicate id 'x'" in p.message and p.entry.startswith("entry 2") for p in problems)
    assert all(p.file == str(path) for p in problems)


def test_empty_answer_is_reported(write) -> None:
    problems = check_faq(write(entry(id="blank", answer="   ")))
    assert [(p.entry, "answer" in p.message and "empty" in p.message) for p in problems] == [
        ("entry 1 (id 'blank')", True)
    ]


def test_unknown_field_is_reported(write) -> None:
    problems = check_faq(write(entry(id="x") + 'colour = "red"\n'))
    assert any("unknown field 'colour'" in p.message for p in problems)


def test_missing_required_field_is_reported(write) -> None:
    text = '[[entry]]\nid = "x"\ncategory = "c"\ntitle = "t"\nquestions = ["q"]\n'
    problems = check_faq(write(text))
    assert any("missing required field 'answer'" in p.message for p in problems)


def test_question_matching_two_entries_equally_is_reported(write) -> None:
    text = entry(id="one", questions='"how do i cancel my order"') + entry(
        id="two", questions='"how do i cancel my order", "cancellation fee"'
    )
    problems = check_faq(write(text))
    assert any(p.entry == "entry 'one'" and "'two'" in p.message for p in problems)


def test_invalid_toml_is_reported_not_raised(write) -> None:
    problems = check_faq(write("[[entry]\nid = "))
    assert problems and "not valid TOML" in problems[0].message


def test_load_raises_with_every_problem(write) -> None:
    with pytest.raises(FaqError) as caught:
        load_faq(write(entry(id="Bad Id", answer="")))
    assert len(caught.value.problems) == 2


def test_check_command_exits_1_on_problems(write, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(write(entry(id="x") + entry(id="x"))) == 1
    assert "duplicate id" in capsys.readouterr().out
