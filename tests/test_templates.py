"""Texts with placeholders: filled in one place, a missing or unknown value named, never sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel import Locale

from chatserver.core.notices import NoticeIn, texts_for, values_of
from chatserver.domain.templates import MissingValue, check, fill, placeholders


def test_fill_replaces_every_placeholder_and_names_the_first_without_a_value() -> None:
    template = "Hi {first_name}, order {order} arrives on {new_date}."
    values = {"first_name": "Jane", "order": "77", "new_date": "15 January"}
    assert fill(template, values) == "Hi Jane, order 77 arrives on 15 January."
    with pytest.raises(MissingValue) as missing:
        fill(template, {**values, "order": ""})
    assert (missing.value.placeholder, str(missing.value)) == ("order", "{order} has no value")
    assert fill("{{literal}} braces", {}) == "{literal} braces"
    assert placeholders(template) == ["first_name", "order", "new_date"]


@pytest.mark.parametrize("template", ["{first_name.__class__}", "{order[0]}", "{nope}", "{0}"])
def test_only_known_plain_placeholders_pass_the_check(template: str) -> None:
    with pytest.raises(MissingValue) as unknown:
        check(template)
    assert not unknown.value.known


def test_unbalanced_braces_are_refused() -> None:
    with pytest.raises(ValueError):
        check("Hi {first_name")


def test_values_are_written_for_the_customers_locale() -> None:
    notice = NoticeIn(
        notice_id="r-1", customer_id="c", kind="refund", first_name="Jana", order="9",
        amount=Decimal("12.50"), currency="EUR", new_date=date(2027, 1, 15),
    )  # fmt: skip
    german = values_of(notice, Locale("de", "DE"))
    assert (german["amount"], german["new_date"]) == ("12,50\xa0€", "15. Januar 2027")
    english = values_of(notice, Locale("en"))
    assert (english["amount"], english["new_date"]) == ("€12.50", "January 15, 2027")
    text = fill(texts_for("de", {})["refund"]["text"], german)
    assert text.startswith("Jana, wir haben 12,50\xa0€ für Bestellung 9 erstattet.")


def test_a_language_without_texts_gets_english_and_the_shops_own_win() -> None:
    assert texts_for("pt", {})["shipped"]["title"] == "Order {order} is on its way"
    own = {"notices.de.toml": '[shipped]\ntitle = "Unterwegs: {order}"\n'}
    assert texts_for("de", own)["shipped"] == {
        "title": "Unterwegs: {order}",
        "text": texts_for("de", {})["shipped"]["text"],
    }
